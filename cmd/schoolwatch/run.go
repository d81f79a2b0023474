package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/signal"
	"syscall"

	"github.com/schoolwatch/schoolwatch/daemon"
	"github.com/schoolwatch/schoolwatch/yamlpos"
)

func init() {
	register(&command{
		name:    "run",
		usage:   "-config FILE [--web.listen-address ADDR]",
		summary: "run the daemon: poll feeds on schedule, mail alerts; SIGHUP reloads the config, SIGINT/SIGTERM stop",
		run:     runDaemon,
	})
}

// runDaemon maps the command line and signals onto daemon.Run: SIGHUP
// becomes a reload request, SIGINT and SIGTERM (ctx) stop it.
func runDaemon(ctx context.Context, e *env, args []string) error {
	fs := e.flags("run")
	e.listenFlag(fs)
	if _, err := parseArgs(fs, args); err != nil {
		return err
	}
	if a := e.listenAddress; a != "" && a != "off" {
		if _, _, err := net.SplitHostPort(a); err != nil {
			return &exitError{code: 2, err: fmt.Errorf("schoolwatch run: --web.listen-address: want host:port or off, got %q", a)}
		}
	}
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	reload := make(chan struct{}, 1)
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-hup:
				select {
				case reload <- struct{}{}:
				default: // a reload is already waiting
				}
			}
		}
	}()
	err := daemon.Run(ctx, daemon.Options{
		ConfigPath:    e.configPath,
		ListenAddress: e.listenAddress,
		Logger:        e.logger(),
		Version:       buildVersion(),
		Reload:        reload,
	})
	var cerrs yamlpos.Errors
	if errors.As(err, &cerrs) {
		// A broken config is listed as `check` lists it.
		return &exitError{code: 1, err: err}
	}
	return err
}
