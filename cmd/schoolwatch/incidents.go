package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"time"

	"github.com/schoolwatch/schoolwatch/daemon"
)

func init() {
	register(&command{
		name:    "alerts",
		usage:   "export -config FILE [-since DATE]",
		summary: "print the incident log (every alert mailed, with its status: new, acknowledged, not relevant, muted) as CSV, as /alerts.csv serves it",
		run:     runAlerts,
	})
	register(&command{
		name:    "feedback",
		usage:   "export -config FILE",
		summary: `print the examples labelled through the action links ("not relevant" and acknowledged alerts) in the corpus format schools|categories|text, to retrain the model`,
		run:     runFeedback,
	})
}

// parseSince reads -since: a date (2006-01-02) in the config's time zone
// or an RFC 3339 time.
func parseSince(s string, loc *time.Location) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.ParseInLocation("2006-01-02", s, loc); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("-since %q: want a date (2026-11-30) or an RFC 3339 time", s)
}

// subcommand parses args, which must name "export" before or after the flags.
func subcommand(fs *flag.FlagSet, args []string, usage string) error {
	if len(args) > 0 && args[0] == "export" {
		args = args[1:]
	}
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 1 || (len(pos) == 1 && pos[0] != "export") {
		return &exitError{code: 2, err: errors.New(usage)}
	}
	return nil
}

func runAlerts(ctx context.Context, e *env, args []string) error {
	fs := e.flags("alerts export")
	since := fs.String("since", "", "only alerts mailed on or after this date (2026-11-30) or time (RFC 3339)")
	if err := subcommand(fs, args, "usage: schoolwatch alerts export -config FILE [-since DATE]"); err != nil {
		return err
	}
	p, err := e.load()
	if err != nil {
		return err
	}
	loc := location(p)
	t, err := parseSince(*since, loc)
	if err != nil {
		return &exitError{code: 2, err: err}
	}
	if err := daemon.ExportAlerts(ctx, p, e.stdout, t); err != nil {
		return &exitError{code: 1, err: fmt.Errorf("schoolwatch alerts export: %w", err)}
	}
	return nil
}

func runFeedback(ctx context.Context, e *env, args []string) error {
	fs := e.flags("feedback export")
	if err := subcommand(fs, args, "usage: schoolwatch feedback export -config FILE"); err != nil {
		return err
	}
	p, err := e.load()
	if err != nil {
		return err
	}
	n, err := daemon.ExportFeedback(ctx, p, e.stdout)
	if err != nil {
		return &exitError{code: 1, err: fmt.Errorf("schoolwatch feedback export: %w", err)}
	}
	fmt.Fprintf(e.stderr, "%d example(s)\n", n)
	return nil
}
