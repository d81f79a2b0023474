package main

import (
	"bytes"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/schoolwatch/schoolwatch/alerts"
	"github.com/schoolwatch/schoolwatch/store"
	"github.com/schoolwatch/schoolwatch/watchers"
)

func TestStatusWithoutStoreSaysSo(t *testing.T) {
	dir := t.TempDir()
	cfg := demoConfig(t, dir, "http://127.0.0.1:1", "")
	_, stderr, code := run(t, "status", "-config", cfg)
	if code != 1 || !strings.Contains(stderr, "does not exist yet") {
		t.Fatalf("exit %d, stderr:\n%s", code, stderr)
	}
	if _, err := os.Stat(dir + "/var/schoolwatch.db"); err == nil {
		t.Error("status created the store")
	}
}

func TestStatusAfterPoll(t *testing.T) {
	dir := t.TempDir()
	feeds := serveDemoFeeds(t)
	dead := httptest.NewServer(nil)
	deadURL := dead.URL
	dead.Close()
	cfg := demoConfig(t, dir, feeds.URL, "")
	b, _ := os.ReadFile(cfg)
	os.WriteFile(cfg, []byte(strings.Replace(string(b), "\nfeeds:\n", "\nfeeds:\n  - id: gone\n    url: "+deadURL+"/feed.xml\n", 1)), 0o600)
	if _, stderr, code := run(t, "once", "--send", "-config", cfg); code != 0 {
		t.Fatalf("once: exit %d: %s", code, stderr)
	}
	out, stderr, code := run(t, "status", "-config", cfg)
	if code != 0 {
		t.Fatalf("status: exit %d: %s", code, stderr)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if f := strings.Fields(lines[0]); strings.Join(f, " ") != "FEED STATE LAST SUCCESS LAST ERROR FAILURES NEXT POLL ITEMS SEEN" {
		t.Errorf("header = %q", lines[0])
	}
	var gone, news string
	for _, l := range lines[1:] {
		if strings.HasPrefix(l, "gone ") {
			gone = l
		}
		if strings.HasPrefix(l, "demo-news ") {
			news = l
		}
	}
	// A healthy feed shows when it is polled next.
	if f := strings.Fields(news); len(f) < 3 || f[1] != "ok" || strings.Count(news, "never") != 0 {
		t.Errorf("row for a healthy feed = %q, want ok with a last success and a next poll", news)
	}
	// One failure is below failures_before_notice and the feed has never
	// succeeded, so it is unknown, not ok, but the error is shown.
	if !strings.Contains(gone, "never") || !strings.Contains(gone, "network") {
		t.Errorf("row for the dead feed = %q\nall:\n%s", gone, out)
	}
}

func TestWriteStatus(t *testing.T) {
	now := time.Date(2026, 11, 25, 8, 0, 0, 0, time.UTC)
	feeds := []watchers.Feed{{ID: "fresh"}, {ID: "ok", QuietAfter: time.Hour}, {ID: "down"}, {ID: "silent", QuietAfter: time.Hour}, {ID: "big"}}
	states := map[string]store.FeedState{
		"ok":     {FeedID: "ok", LastPoll: now, LastSuccess: now, LastNewItem: now, NextPoll: now.Add(15 * time.Minute), ItemsSeen: 12},
		"down":   {FeedID: "down", LastPoll: now, LastError: "fetch: status 500\nline two", ErrorClass: "http_5xx", Failures: 3},
		"silent": {FeedID: "silent", LastPoll: now, LastSuccess: now, LastNewItem: now.Add(-2 * time.Hour)},
		"big":    {FeedID: "big", LastPoll: now, LastSuccess: now, LastNewItem: now, LastError: "the document has 5000 entries; only the first 1000 were read (max_items)", ErrorClass: watchers.NoteTruncated},
	}
	var buf bytes.Buffer
	writeStatus(&buf, healthOf(feeds, states, now), time.UTC)
	want := map[string][]string{
		"fresh":  {"unknown", "never"},
		"ok":     {"ok", "2026-11-25 08:00", "2026-11-25 08:15", "12"},
		"down":   {"failing", "http_5xx: fetch: status 500 line two", "3"},
		"silent": {"quiet"},
		"big":    {"ok", "truncated: the document has 5000 entries"},
	}
	for _, l := range strings.Split(buf.String(), "\n")[1:] {
		f := strings.Fields(l)
		if len(f) == 0 {
			continue
		}
		for _, w := range want[f[0]] {
			if !strings.Contains(l, w) {
				t.Errorf("row %q lacks %q", l, w)
			}
		}
		delete(want, f[0])
	}
	if len(want) != 0 {
		t.Errorf("rows missing: %v\n%s", want, buf.String())
	}
}

// healthOf evaluates feeds from states as the daemon does, for the table.
func healthOf(feeds []watchers.Feed, states map[string]store.FeedState, now time.Time) []alerts.FeedHealth {
	var fh []alerts.FeedHealth
	for _, f := range feeds {
		st, ok := states[f.ID]
		if !ok {
			st.FeedID = f.ID
		}
		fh = append(fh, alerts.FeedHealth{Feed: f, State: st, Health: watchers.HealthPolicy{}.Evaluate(st, f, now)})
	}
	return fh
}
