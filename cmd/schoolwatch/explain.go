package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/schoolwatch/schoolwatch/alerts"
)

func init() {
	register(&command{
		name:    "explain",
		usage:   `-config FILE [--brief] ["TEXT" | < FILE]`,
		summary: "show which schools and rules match a piece of text, and why (for tuning rules)",
		run:     runExplain,
	})
}

// runExplain prints rules.Matcher.Explain for the text given as arguments,
// or read from stdin when there are none.
func runExplain(ctx context.Context, e *env, args []string) error {
	fs := e.flags("explain")
	brief := fs.Bool("brief", false, "print a one-screen answer: findings, schools, the rules that fire and why")
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
	var out bytes.Buffer
	explain := s.Matcher.Explain
	if *brief {
		explain = s.Matcher.ExplainBrief
	}
	if err := explain(&out, text); err != nil {
		return err
	}
	if !*brief {
		fmt.Fprintln(&out)
		if err := s.ExplainDetection(&out, text); err != nil {
			return err
		}
	}
	return writeDisplayLines(e.stdout, out.String())
}

// writeDisplayLines writes a report that quotes feed text (the excerpts of
// explain's findings) to a terminal: each line keeps its indentation and the
// rest goes through the display sanitiser, so no terminal escape, carriage
// return or bidi control in the text reaches the screen, while look-alike
// and zero-width characters are shown as the post has them.
func writeDisplayLines(w io.Writer, report string) error {
	bw := bufio.NewWriter(w)
	for line := range strings.Lines(report) {
		line = strings.TrimSuffix(line, "\n")
		rest := strings.TrimLeft(line, " ")
		bw.WriteString(line[:len(line)-len(rest)])
		bw.WriteString(alerts.SanitizeText(rest, 0))
		bw.WriteByte('\n')
	}
	return bw.Flush()
}
