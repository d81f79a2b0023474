package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
)

func init() {
	register(&command{
		name:    "explain",
		usage:   `-config FILE ["TEXT" | < FILE]`,
		summary: "show which schools and rules match a piece of text, and why (for tuning rules)",
		run:     runExplain,
	})
}

// runExplain prints rules.Matcher.Explain for the text given as arguments,
// or read from stdin when there are none.
func runExplain(ctx context.Context, e *env, args []string) error {
	fs := e.flags("explain")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	s, err := e.load()
	if err != nil {
		return err
	}
	text := strings.Join(pos, " ")
	if len(pos) == 0 {
		// Posts are small; the cap keeps a mistaken pipe from eating memory.
		b, err := io.ReadAll(io.LimitReader(os.Stdin, 1<<20))
		if err != nil {
			return fmt.Errorf("read stdin: %w", err)
		}
		text = string(b)
	}
	if strings.TrimSpace(text) == "" {
		return &exitError{code: 2, err: fmt.Errorf("schoolwatch explain: give the text as an argument or on stdin")}
	}
	return s.Matcher.Explain(e.stdout, text)
}
