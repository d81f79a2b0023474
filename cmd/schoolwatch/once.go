package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/schoolwatch/schoolwatch/alerts"
	"github.com/schoolwatch/schoolwatch/daemon"
	"github.com/schoolwatch/schoolwatch/rules"
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
	res, err := daemon.Once(ctx, s, daemon.OnceOptions{Send: *send, Logger: log, OnFinding: print})
	if err != nil && res.Polls == nil {
		return err // nothing was polled: the store or its lock failed
	}
	failed := 0
	for _, r := range res.Polls {
		if r.Err != nil {
			failed++
		}
		fmt.Fprintln(e.stderr, alerts.SanitizeText(r.String(), 0)) // error texts can quote the server
	}
	fmt.Fprintf(e.stderr, "%d feeds polled (%d failed), %d findings\n", len(res.Polls), failed, findings)
	if err != nil {
		return err
	}
	if !*send {
		return nil
	}
	fmt.Fprintf(e.stderr, "%d mails queued, %d delivered, %d waiting in the outbox\n", res.Queued, res.Delivered, res.Waiting)
	if res.Waiting > 0 {
		return &exitError{code: 1, err: fmt.Errorf("schoolwatch once: %d mails could not be delivered yet; they stay in the outbox and `schoolwatch run` retries them", res.Waiting)}
	}
	return nil
}
