package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/schoolwatch/schoolwatch/alerts"
	"github.com/schoolwatch/schoolwatch/store"
	"github.com/schoolwatch/schoolwatch/watchers"
)

func init() {
	register(&command{
		name:    "status",
		usage:   "-config FILE",
		summary: "print each feed's health from the store: last success, last error, failures, next poll, items seen",
		run:     runStatus,
	})
}

// runStatus reads feed state from the store and prints one row per
// configured feed. It only reads, so it works beside a running daemon: the
// store is in WAL mode and readers never block the writer.
func runStatus(ctx context.Context, e *env, args []string) error {
	fset := e.flags("status")
	if _, err := parseArgs(fset, args); err != nil {
		return err
	}
	s, err := e.load()
	if err != nil {
		return err
	}
	path := s.cfg.Resolve(s.cfg.Store.Path)
	// Opening a missing path would create an empty database; say so instead.
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return &exitError{code: 1, err: fmt.Errorf("store %s does not exist yet: no poll has been recorded (run the daemon or `schoolwatch once --send`)", path)}
	}
	st, err := store.Open(ctx, path)
	if err != nil {
		return &exitError{code: 1, err: err}
	}
	defer st.Close()
	states, err := st.FeedStates(ctx)
	if err != nil {
		return &exitError{code: 1, err: err}
	}
	byID := make(map[string]store.FeedState, len(states))
	for _, fs := range states {
		byID[fs.FeedID] = fs
	}
	loc := s.cfg.Location
	if loc == nil {
		loc = time.Local
	}
	writeStatus(e.stdout, s.feeds, byID, watchers.HealthPolicy{FailuresBeforeNotice: s.cfg.Defaults.FailuresBeforeNotice}, time.Now(), loc)
	return nil
}

// writeStatus renders the status table; it is separate from runStatus so the
// layout can be tested without a store.
func writeStatus(w interface{ Write([]byte) (int, error) }, feeds []watchers.Feed, states map[string]store.FeedState, p watchers.HealthPolicy, now time.Time, loc *time.Location) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "FEED\tSTATE\tLAST SUCCESS\tLAST ERROR\tFAILURES\tNEXT POLL\tITEMS SEEN")
	for _, f := range feeds {
		st, ok := states[f.ID]
		if !ok {
			st = store.FeedState{FeedID: f.ID}
		}
		lastErr := "-"
		if st.LastError != "" { // a failure, or a note on a working feed (truncated)
			lastErr = st.ErrorClass
			if lastErr == "" {
				lastErr = "error"
			}
			// The stored error already starts with its class; older rows may
			// hold an unredacted URL; the text can quote a server's reply, so
			// the display sanitiser keeps it on one line, free of controls.
			lastErr += ": " + alerts.SanitizeText(watchers.RedactText(strings.TrimPrefix(st.LastError, lastErr+": ")), 60)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\t%d\n", alerts.SanitizeText(f.ID, 0), p.Evaluate(st, f, now), statusStamp(st.LastSuccess, loc), lastErr, st.Failures, statusStamp(st.NextPoll, loc), st.ItemsSeen)
	}
	tw.Flush()
}

func statusStamp(t time.Time, loc *time.Location) string {
	if t.IsZero() {
		return "never"
	}
	return t.In(loc).Format("2006-01-02 15:04")
}
