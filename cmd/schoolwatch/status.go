package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/schoolwatch/schoolwatch/alerts"
	"github.com/schoolwatch/schoolwatch/daemon"
	"github.com/schoolwatch/schoolwatch/watchers"
)

func init() {
	register(&command{
		name:    "status",
		usage:   "-config FILE",
		summary: "print each feed's health from the store: last success, last error, failures, next poll, items seen; then the source kinds covered and not",
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
	fh, err := daemon.Status(ctx, s, time.Now())
	if err != nil {
		return &exitError{code: 1, err: err}
	}
	loc := location(s)
	writeStatus(e.stdout, fh, loc)
	fmt.Fprintln(e.stderr)
	writeCoverage(e.stderr, daemon.Coverage(s))
	// Replicas on a Postgres store: who runs the cluster's jobs, and who
	// polled each feed last (on stderr, beside the coverage, so the
	// table on stdout is the same for both stores).
	if rs, ok, err := daemon.Replicas(ctx, s); err != nil {
		return &exitError{code: 1, err: err}
	} else if ok {
		writeReplicas(e.stderr, rs, loc)
	}
	return nil
}

// writeReplicas renders the replicas' status of a Postgres store.
func writeReplicas(w io.Writer, rs daemon.ReplicaStatus, loc *time.Location) {
	fmt.Fprintln(w)
	if rs.Leader == "" {
		fmt.Fprintln(w, "Leader: none yet (no replica has run)")
	} else {
		fmt.Fprintf(w, "Leader: %s (since %s): runs digests, heartbeats, feed-health notices and purges\n", rs.Leader, rs.LeaderSince.In(loc).Format("2006-01-02 15:04:05"))
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "FEED\tLAST POLLED BY\tAT")
	for _, c := range rs.Feeds {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", c.FeedID, c.Replica, c.LastPoll.In(loc).Format("2006-01-02 15:04:05"))
	}
	tw.Flush()
}

// writeStatus renders the status table; it is separate from runStatus so the
// layout can be tested without a store.
func writeStatus(w io.Writer, feeds []alerts.FeedHealth, loc *time.Location) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "FEED\tSTATE\tLAST SUCCESS\tLAST ERROR\tFAILURES\tNEXT POLL\tITEMS SEEN")
	for _, h := range feeds {
		f, st := h.Feed, h.State
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
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\t%d\n", alerts.SanitizeText(f.ID, 0), h.Health, statusStamp(st.LastSuccess, loc), lastErr, st.Failures, statusStamp(st.NextPoll, loc), st.ItemsSeen)
	}
	tw.Flush()
}

func statusStamp(t time.Time, loc *time.Location) string {
	if t.IsZero() {
		return "never"
	}
	return t.In(loc).Format("2006-01-02 15:04")
}
