package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/schoolwatch/schoolwatch/alerts"
	"github.com/schoolwatch/schoolwatch/daemon"
)

func init() {
	register(&command{
		name:    "evidence",
		usage:   "-config FILE KEY...",
		summary: "print the evidence record kept for a post (KEY is the item key in the alert and its attached record)",
		run:     runEvidence,
	})
}

// runEvidence prints the evidence records of the given item keys, as the
// alert mails attached them: the post as fetched, the feed response's Date
// and ETag, and the SHA-256 of the content. It only reads the store.
func runEvidence(ctx context.Context, e *env, args []string) error {
	fs := e.flags("evidence")
	keys, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(keys) == 0 {
		return &exitError{code: 2, err: errors.New("usage: schoolwatch evidence -config FILE KEY... (KEY is the item key shown in the alert)")}
	}
	p, err := e.load()
	if err != nil {
		return err
	}
	loc := location(p)
	recs, err := daemon.Evidence(ctx, p, keys...)
	for i, r := range recs {
		if i > 0 {
			fmt.Fprintln(e.stdout)
		}
		fmt.Fprint(e.stdout, alerts.EvidenceRecord(r, loc))
	}
	if err != nil {
		return &exitError{code: 1, err: fmt.Errorf("schoolwatch evidence: %w", err)}
	}
	return nil
}
