package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/schoolwatch/schoolwatch/alerts"
	"github.com/schoolwatch/schoolwatch/rules"
	"github.com/schoolwatch/schoolwatch/store"
	"github.com/schoolwatch/schoolwatch/watchers"
)

func init() {
	register(&command{
		name:    "once",
		usage:   "[--send] -config FILE",
		summary: "poll every feed once and print the findings; with --send, record them and mail them",
		run:     runOnce,
	})
}

func runOnce(ctx context.Context, e *env, args []string) error {
	fs := e.flags("once")
	send := fs.Bool("send", false, "record new items and mail their findings (without it nothing is recorded or sent)")
	if _, err := parseArgs(fs, args); err != nil {
		return err
	}
	log := e.logger()
	s, err := e.load()
	if err != nil {
		return err
	}
	findings := 0
	// One line per finding. The title and link come from the feed, so they
	// go through the display sanitiser: no terminal escape, CR or LF, tab or
	// bidi control can reach the terminal or forge a line.
	print := func(it watchers.Item, f rules.Finding) {
		findings++
		fmt.Fprintf(e.stdout, "%s\t%s\tschool=%s\trule=%s\tfeed=%s\t%s\t%s\n",
			strings.ToUpper(f.Severity), f.Category, f.School, f.Rule, alerts.SanitizeText(it.FeedID, 0),
			alerts.SanitizeText(it.Title, 120), alerts.SanitizeText(it.Link, 0))
	}
	var results []watchers.Result
	var g *generation
	if !*send {
		in := &intake{matcher: s.matcher, router: alerts.NewRouter(s.cfg, log), onFinding: print}
		sch := &watchers.Scheduler{
			Poller: &watchers.Poller{Fetcher: watchers.NewFetcher(s.cfg.Defaults.UserAgent), Sink: in, Log: log, DryRun: true},
			Feeds:  s.feeds, Concurrency: s.cfg.Polling.Concurrency, PerHost: s.cfg.Polling.PerHost,
		}
		results = sch.PollAll(ctx)
	} else {
		// Sending takes the store's lock, as `run` does: a daemon on the
		// same store would otherwise send the same mail too.
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
		if g, err = svc.build(s); err != nil {
			return err
		}
		g.scheduler.Poller.Sink.(*intake).onFinding = print
		results = g.scheduler.PollAll(ctx)
	}
	failed := 0
	for _, r := range results {
		if r.Err != nil {
			failed++
		}
		fmt.Fprintln(e.stderr, alerts.SanitizeText(r.String(), 0)) // error texts can quote the server
	}
	fmt.Fprintf(e.stderr, "%d feeds polled (%d failed), %d findings\n", len(results), failed, findings)
	if g == nil {
		return nil
	}
	n, err := g.grouper.Flush(ctx, time.Now(), true)
	if err != nil {
		return err
	}
	sent, err := g.sender.Drain(ctx)
	if err != nil {
		return err
	}
	depth, _, _ := g.svc.store.OutboxStats(ctx)
	fmt.Fprintf(e.stderr, "%d mails queued, %d delivered, %d waiting in the outbox\n", n, sent, depth)
	if depth > 0 {
		return &exitError{code: 1, err: fmt.Errorf("schoolwatch once: %d mails could not be delivered yet; they stay in the outbox and `schoolwatch run` retries them", depth)}
	}
	return nil
}
