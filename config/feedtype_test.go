package config

import (
	"strings"
	"testing"
)

// TestFeedType: type defaults to rss; a jetstream feed needs a ws:// or
// wss:// URL and cannot be per_school; an rss feed still refuses ws://.
func TestFeedType(t *testing.T) {
	c, err := Parse("ok.yml", []byte(minimal+`feeds:
  - { id: news, url: "https://example.org/feed.xml" }
  - { id: bluesky, type: jetstream, url: "wss://jetstream2.us-east.bsky.network/subscribe" }
  - { id: local, type: jetstream, url: "ws://127.0.0.1:6008/subscribe" }
`))
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []string{FeedTypeRSS, FeedTypeJetstream, FeedTypeJetstream} {
		if got := c.Feeds[i].Type; got != want {
			t.Errorf("feeds[%d].type = %q, want %q", i, got, want)
		}
	}

	bad := []struct {
		name, feed, want string
	}{
		{"jetstream over http", `{ id: b, type: jetstream, url: "https://jetstream.example.org/subscribe" }`, `feeds[0].url: bad URL "https://jetstream.example.org/subscribe": scheme must be one of ws, wss`},
		{"jetstream without host", `{ id: b, type: jetstream, url: "wss:///subscribe" }`, "feeds[0].url: bad URL"},
		{"jetstream per school", `{ id: b, type: jetstream, per_school: true, url: "wss://j.example.org/subscribe?q={{ .Query }}" }`, "feeds[0].per_school: a jetstream feed carries every public post"},
		{"rss over ws", `{ id: b, url: "wss://j.example.org/subscribe" }`, "feeds[0].url: bad URL"},
		{"unknown type", `{ id: b, type: atom, url: "https://x.org/f" }`, `feeds[0].type: unknown value "atom" (allowed: rss, jetstream)`},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("bad.yml", []byte(minimal+"feeds:\n  - "+tt.feed+"\n"))
			if err == nil {
				t.Fatal("config accepted")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error\n%s\ndoes not contain\n%s", err, tt.want)
			}
		})
	}
}
