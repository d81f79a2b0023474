package daemon

import (
	"context"
	"errors"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Options is what Run needs from its caller. cmd/schoolwatch maps flags and
// signals onto it; tests fill it in directly to embed the daemon.
type Options struct {
	// ConfigPath is the config file; it is read at start and at each reload.
	ConfigPath string
	// ListenAddress, if set, is where /metrics, /healthz and /readyz are
	// served instead of the config's http.listen ("off" turns the server
	// off): the command's --web.listen-address. Like http.listen, it is
	// read once at start.
	ListenAddress string
	// Logger receives the daemon's logs; nil discards them.
	Logger *slog.Logger
	// Registerer receives the daemon's metrics and Gatherer serves them on
	// /metrics. Both nil: a private registry with the Go and process
	// collectors. A caller that sets one sets both.
	Registerer prometheus.Registerer
	Gatherer   prometheus.Gatherer
	// Version is reported in logs and in schoolwatch_build_info.
	Version string
	// Reload asks for the config to be read again (SIGHUP in the command).
	// A config that fails to load is logged and counted, and the running
	// one carries on.
	Reload <-chan struct{}
	// Ready, if set, is called once with the address the HTTP server
	// listens on (nil when http.listen is off), when the first generation
	// is running.
	Ready func(addr string)
}

// drainTimeout bounds the final outbox drain at shutdown.
const drainTimeout = 20 * time.Second

// Run runs the daemon until ctx is done: it compiles the config, opens the
// store, serves /metrics, /healthz and /readyz, polls feeds on schedule and
// mails alerts, and rebuilds everything but the store and the metrics at
// each reload. At shutdown it gives the outbox a bounded last drain.
func Run(ctx context.Context, opts Options) error {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	p, err := Compile(opts.ConfigPath, time.Now())
	if err != nil {
		return err
	}
	for _, w := range p.Warnings {
		log.Warn(w)
	}
	// One daemon per SQLite store: two would send the same mail twice.
	// Postgres replicas share theirs.
	release, err := lockStore(p.Config)
	if err != nil {
		return err
	}
	defer release()
	svc, err := newService(ctx, p.Config, log, opts)
	if err != nil {
		return err
	}
	defer svc.store.Close()

	var cur atomic.Pointer[generation] // read by /readyz
	httpCtx, stopHTTP := context.WithCancel(context.WithoutCancel(ctx))
	defer stopHTTP()
	addr := ""
	listen := p.Config.HTTP.Listen
	if opts.ListenAddress != "" {
		listen = opts.ListenAddress
	}
	var iw *incidentWeb
	if p.Config.HTTP.PublicURL != "" {
		iw = &incidentWeb{store: svc.store, limiter: newRateLimiter(20, 0.2), log: log, metrics: svc.dm.actions, links: func() (*linker, *time.Location) {
			if g := cur.Load(); g != nil && g.links != nil {
				return g.links, g.plan.Config.Location
			}
			return nil, nil
		}, plan: func() *Plan {
			if g := cur.Load(); g != nil {
				return g.plan
			}
			return nil
		}, reportFn: Report}
	}
	if listen != "off" {
		a, httpDone, err := serveHTTP(httpCtx, listen, p.Config.Resolve(p.Config.HTTP.WebConfig), svc.gatherer, func(ctx context.Context) error {
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
		}, log, iw)
		if err != nil {
			return err
		}
		addr = a.String()
		defer func() {
			stopHTTP()
			if err := <-httpDone; err != nil {
				log.Error("http server", "err", err)
			}
		}()
	}
	svc.dm.lastReload.SetToCurrentTime()
	log.Info("schoolwatch started", "version", svc.version, "config", opts.ConfigPath, "schools", len(p.Config.Schools), "feeds", len(p.Feeds), "rules", len(p.Config.Rules), "store", svc.store.Path())
	ready := opts.Ready
	for {
		g, err := svc.build(p)
		if err != nil {
			return err
		}
		cur.Store(g)
		if ready != nil {
			go func(f func(string)) {
				g.waitRunning(ctx)
				f(addr)
			}(ready)
			ready = nil
		}
		next, err := runGeneration(ctx, g, opts, svc, log)
		if next == nil {
			return err
		}
		p = next
	}
}

// runGeneration runs g until shutdown (it returns nil, err) or a successful
// reload (it returns the new plan). A reload that fails validation is
// logged and counted, and g keeps running.
func runGeneration(ctx context.Context, g *generation, opts Options, svc *service, log *slog.Logger) (*Plan, error) {
	reload, path := opts.Reload, opts.ConfigPath
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
		case <-reload:
			np, err := Compile(path, time.Now())
			if err != nil {
				svc.dm.reloads.WithLabelValues("failure").Inc()
				log.Error("config reload failed; the previous config keeps running", "config", path, "err", err)
				continue
			}
			old := g.plan.Config
			if storeMoved(old, np.Config, svc.store.Path()) || (opts.ListenAddress == "" && np.Config.HTTP.Listen != old.HTTP.Listen) {
				log.Warn("store.path, store.driver, store.dsn and http.listen changes take effect at the next restart")
			}
			for _, w := range np.Warnings {
				log.Warn(w)
			}
			cancel()
			<-done
			svc.dm.reloads.WithLabelValues("success").Inc()
			svc.dm.lastReload.SetToCurrentTime()
			log.Info("config reloaded", "schools", len(np.Config.Schools), "feeds", len(np.Feeds), "rules", len(np.Config.Rules))
			return np, nil
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
