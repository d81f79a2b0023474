package main

import (
	"strings"
	"testing"
)

// TestStatusCoverage: status ends (on standard error, after the feed
// table) with the source kinds configured and not, and the platforms no
// feed reaches pointing at report.
func TestStatusCoverage(t *testing.T) {
	dir := t.TempDir()
	feeds := serveDemoFeeds(t)
	cfg := demoConfig(t, dir, feeds.URL, "")
	if _, stderr, code := run(t, "once", "--send", "-config", cfg); code != 0 {
		t.Fatalf("once: exit %d: %s", code, stderr)
	}
	stdout, stderr, code := run(t, "status", "-config", cfg)
	if code != 0 {
		t.Fatalf("status: exit %d: %s", code, stderr)
	}
	if n := len(strings.Split(strings.TrimSpace(stdout), "\n")); n != 3 {
		t.Errorf("status printed %d lines on standard output, want a header and the 2 feeds", n)
	}
	rows := map[string]string{}
	for _, l := range strings.Split(stderr, "\n") {
		if k, rest, ok := strings.Cut(l, "  "); ok {
			rows[k] = strings.TrimSpace(rest)
		}
	}
	for kind, want := range map[string]string{
		"rss/atom":          "2  configured",
		"google news":       "0  not configured",
		"reddit":            "0  not configured",
		"mastodon":          "0  not configured",
		"bluesky jetstream": "0  not configured",
		"rss-bridge/rsshub": "0  not configured",
		"facebook":          "-  not reachable",
		"x":                 "-  not reachable",
		"instagram":         "-  not reachable",
		"tiktok":            "-  not reachable",
		"nextdoor":          "-  not reachable",
	} {
		if !strings.HasPrefix(strings.Join(strings.Fields(rows[kind]), "  "), strings.Join(strings.Fields(want), "  ")) {
			t.Errorf("coverage row %q = %q, want %q...\n%s", kind, rows[kind], want, stderr)
		}
	}
	if !strings.Contains(stderr, "schoolwatch report") {
		t.Errorf("the coverage table does not point at report:\n%s", stderr)
	}
}
