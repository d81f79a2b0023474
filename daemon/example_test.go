package daemon

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestExampleFeedTemplates: the Google News and Bluesky feeds the example
// config carries as comments compile once uncommented: one Google News
// search per school (its name quoted, its town, URL-escaped) and one stream.
func TestExampleFeedTemplates(t *testing.T) {
	b, err := os.ReadFile("../schoolwatch.example.yml")
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	uncommented := 0
	for _, l := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(l, "  # - "); ok && (strings.HasPrefix(rest, "id: google-news") || strings.HasPrefix(rest, "{ id: bluesky")) {
			l = "  - " + rest
			uncommented++
		} else if rest, ok := strings.CutPrefix(l, "  #   "); ok && uncommented > 0 && strings.Contains(rest, ": ") {
			l = "    " + rest
		}
		lines = append(lines, l)
	}
	if uncommented != 2 {
		t.Fatalf("found %d of the 2 commented feed templates", uncommented)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "schoolwatch.yml")
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")), 0o600); err != nil {
		t.Fatal(err)
	}
	p, err := Compile(path, time.Now())
	if err != nil {
		t.Fatalf("the example with its templates uncommented: %v", err)
	}
	urls := map[string]string{}
	for _, f := range p.Feeds {
		urls[f.ID] = f.URL
	}
	want := map[string]string{
		"google-news/990001": "https://news.google.com/rss/search?q=%22St+Mary%27s+Church+of+England+Primary+School%22+Folkestone+when:7d&hl=en-GB&gl=GB&ceid=GB:en",
		"google-news/990002": "https://news.google.com/rss/search?q=%22Harbourside+Academy%22+Dover+when:7d&hl=en-GB&gl=GB&ceid=GB:en",
		"bluesky":            "wss://jetstream2.us-east.bsky.network/subscribe",
	}
	for id, u := range want {
		if urls[id] != u {
			t.Errorf("feed %s = %q, want %q", id, urls[id], u)
		}
	}
	kinds := map[string]int{}
	for _, c := range Coverage(p) {
		kinds[c.Kind] = c.Feeds
	}
	if kinds[KindGoogleNews] != 2 || kinds[KindJetstream] != 1 {
		t.Errorf("coverage = %v, want 2 google news feeds and 1 jetstream", kinds)
	}
}
