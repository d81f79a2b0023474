package main

import (
	"context"
	"fmt"

	"github.com/schoolwatch/schoolwatch/guidance"
)

func init() {
	register(&command{
		name:    "check",
		usage:   "-config FILE",
		summary: "validate the config; exit 1 listing every problem as file:line: field: message",
		run:     runCheck,
	})
}

func runCheck(ctx context.Context, e *env, args []string) error {
	fs := e.flags("check")
	if _, err := parseArgs(fs, args); err != nil {
		return err
	}
	s, err := e.load()
	if err != nil {
		return err
	}
	for _, w := range s.Warnings {
		fmt.Fprintf(e.stderr, "%s: warning: %s\n", e.configPath, w)
	}
	// A note for the operator, never for a leader's mail: with no local
	// contact configured, alerts name "your local authority's LADO".
	if n := guidance.SetupNote(s.Pack); n != "" {
		fmt.Fprintf(e.stderr, "%s: warning: guidance.contacts: %s\n", e.configPath, n)
	}
	fmt.Fprintf(e.stdout, "%s: OK: %d schools, %d feeds (%d to poll), %d rules\n", e.configPath, len(s.Config.Schools), len(s.Config.Feeds), len(s.Feeds), len(s.Config.Rules))
	return nil
}
