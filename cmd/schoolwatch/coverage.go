package main

import (
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/schoolwatch/schoolwatch/daemon"
)

// writeCoverage renders the source kinds a config covers and those it does
// not, the platforms no feed reaches included. status writes it to
// standard error after the feed table, so the table on standard output
// stays one header and one row per feed.
func writeCoverage(w io.Writer, kinds []daemon.SourceCoverage) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SOURCE KIND\tFEEDS\tCOVERAGE")
	for _, k := range kinds {
		switch {
		case !k.Reachable:
			fmt.Fprintf(tw, "%s\t-\tnot reachable: %s\n", k.Kind, k.Hint)
		case k.Feeds > 0:
			fmt.Fprintf(tw, "%s\t%d\tconfigured\n", k.Kind, k.Feeds)
		default:
			fmt.Fprintf(tw, "%s\t0\tnot configured: %s\n", k.Kind, k.Hint)
		}
	}
	tw.Flush()
	fmt.Fprintln(w, `What each source can and cannot see: README, "What it can and cannot see".`)
}
