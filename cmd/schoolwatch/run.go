package main

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"os/signal"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/schoolwatch/schoolwatch/store"
)

func init() {
	register(&command{
		name:    "run",
		usage:   "-config FILE",
		summary: "run the daemon: poll feeds on schedule, mail alerts; SIGHUP reloads the config, SIGINT/SIGTERM stop",
		run:     runDaemon,
	})
}

// drainTimeout bounds the final outbox drain at shutdown.
const drainTimeout = 20 * time.Second

func runDaemon(ctx context.Context, e *env, args []string) error {
	fs := e.flags("run")
	if _, err := parseArgs(fs, args); err != nil {
		return err
	}
	log := e.logger()
	s, err := e.load()
	if err != nil {
		return err
	}
	for _, w := range s.warnings {
		log.Warn(w)
	}
	// One daemon per store: two would send the same mail twice.
	lock, err := store.Lock(s.cfg.Resolve(s.cfg.Store.Path))
	if err != nil {
		return err
	}
	defer lock.Release()
	svc, err := newService(ctx, s.cfg, log)
	if err != nil {
		return err
	}
	defer svc.store.Close()

	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)

	var cur atomic.Pointer[generation] // read by /readyz
	httpCtx, stopHTTP := context.WithCancel(context.WithoutCancel(ctx))
	defer stopHTTP()
	if s.cfg.HTTP.Listen != "off" {
		_, httpDone, err := serveHTTP(httpCtx, s.cfg.HTTP.Listen, s.cfg.Resolve(s.cfg.HTTP.WebConfig), svc.reg, func(ctx context.Context) error {
			if err := svc.store.Ping(ctx); err != nil {
				return err
			}
			if g := cur.Load(); g != nil {
				if err := g.sender.Err(); err != nil {
					return err
				}
				return g.ready()
			}
			return errors.New("starting")
		}, log)
		if err != nil {
			return err
		}
		go func() {
			if err := <-httpDone; err != nil {
				log.Error("http server", "err", err)
			}
		}()
	}
	svc.dm.lastReload.SetToCurrentTime()
	log.Info("schoolwatch started", "version", buildVersion(), "config", e.configPath, "schools", len(s.cfg.Schools), "feeds", len(s.feeds), "rules", len(s.cfg.Rules), "store", svc.store.Path())
	for {
		g, err := svc.build(s)
		if err != nil {
			return err
		}
		cur.Store(g)
		next, err := runGeneration(ctx, g, hup, e.configPath, svc, log)
		if next == nil {
			return err
		}
		s = next
	}
}

// runGeneration runs g until shutdown (it returns nil, err) or a successful
// reload (it returns the new setup). A reload that fails validation is
// logged and counted, and g keeps running.
func runGeneration(ctx context.Context, g *generation, hup <-chan os.Signal, path string, svc *service, log *slog.Logger) (*setup, error) {
	genCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- g.run(genCtx) }()
	for {
		select {
		case err := <-done:
			if ctx.Err() != nil {
				return nil, shutdown(g, log)
			}
			return nil, err
		case <-hup:
			ns, err := load(path, time.Now())
			if err != nil {
				svc.dm.reloads.WithLabelValues("failure").Inc()
				log.Error("config reload failed; the previous config keeps running", "config", path, "err", err)
				continue
			}
			old := g.s.cfg
			if ns.cfg.Resolve(ns.cfg.Store.Path) != svc.store.Path() || ns.cfg.HTTP.Listen != old.HTTP.Listen {
				log.Warn("store.path and http.listen changes take effect at the next restart")
			}
			for _, w := range ns.warnings {
				log.Warn(w)
			}
			cancel()
			<-done
			svc.dm.reloads.WithLabelValues("success").Inc()
			svc.dm.lastReload.SetToCurrentTime()
			log.Info("config reloaded", "schools", len(ns.cfg.Schools), "feeds", len(ns.feeds), "rules", len(ns.cfg.Rules))
			return ns, nil
		}
	}
}

// shutdown gives mail already in the outbox a bounded last chance to go.
// Findings still waiting for their group are safe in the store and go out
// at the next start. If the store fails, it does not send: it waits, with
// backoff, for the store to record what was already delivered.
func shutdown(g *generation, log *slog.Logger) error {
	log.Info("shutting down; draining the outbox", "timeout", drainTimeout)
	ctx, cancel := context.WithTimeout(context.Background(), drainTimeout)
	defer cancel()
	if _, err := g.sender.Finish(ctx); err != nil {
		log.Error("final drain", "err", err)
	}
	log.Info("stopped")
	return nil
}
