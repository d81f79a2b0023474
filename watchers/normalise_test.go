package watchers

import (
	"testing"
	"time"

	"github.com/mmcdole/gofeed"
)

func TestCanonicalLink(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"utm parameters removed", "https://news.example.org/a?utm_source=rss&utm_medium=feed&id=3", "https://news.example.org/a?id=3"},
		{"fragment and click ids removed", "https://news.example.org/a?fbclid=x&gclid=y#comments", "https://news.example.org/a"},
		{"host case and default port", "HTTPS://News.Example.ORG:443/A", "https://news.example.org/A"},
		{"Google Alerts redirect unwrapped", "https://www.google.com/url?rct=j&sa=t&url=https://news.example.org/a%3Futm_campaign%3Dx&ct=ga&usg=AOv", "https://news.example.org/a"},
		{"Google redirect with q=", "https://google.co.uk/url?q=https://news.example.org/b&sa=U", "https://news.example.org/b"},
		{"empty path", "https://news.example.org", "https://news.example.org/"},
		{"query order does not matter", "https://news.example.org/a?b=2&a=1", "https://news.example.org/a?a=1&b=2"},
		{"not http left alone", "mailto:x@example.org", "mailto:x@example.org"},
		{"empty", "", ""},
	}
	for _, tc := range tests {
		if got := canonicalLink(tc.in); got != tc.want {
			t.Errorf("%s: canonicalLink(%q) = %q, want %q", tc.name, tc.in, got, tc.want)
		}
	}
}

func TestHTMLToText(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"plain", "hello", "hello"},
		{"entities", "Fish &amp; chips &#8212; &quot;nice&quot;", `Fish & chips — "nice"`},
		{"tags", "<p>One <b>bold</b> word</p><p>Two</p>", "One bold word\n\nTwo"},
		{"scripts and styles dropped", "<style>p{}</style>Hi<script>alert('x')</script> there", "Hi there"},
		{"line breaks", "a<br>b<br/>c", "a\nb\nc"},
	}
	for _, tc := range tests {
		if got := tidy(HTMLToText(tc.in)); got != tc.want {
			t.Errorf("%s: got %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestNormaliseIdentityAndDates(t *testing.T) {
	now := time.Date(2026, 11, 25, 8, 0, 0, 0, time.UTC)
	pub := now.Add(-2 * time.Hour)
	upd := now.Add(-time.Hour)
	future := now.Add(48 * time.Hour)
	f := Feed{ID: "f", Name: "F"}
	tests := []struct {
		name      string
		e         gofeed.Item
		wantKey   string
		wantAlt   int
		published time.Time
		dated     bool
	}{
		{"GUID and link", gofeed.Item{GUID: "g1", Link: "https://x.org/a?utm_source=y", PublishedParsed: &pub}, "g:f:" + hashKey("g1"), 1, pub, true},
		{"link only, updated date", gofeed.Item{Link: "https://x.org/a", UpdatedParsed: &upd}, "l:x.org:" + hashKey("https://x.org/a"), 0, upd, true},
		{"neither: title and text", gofeed.Item{Title: "T", Description: "<p>body</p>"}, "t:" + hashKey("T", "body"), 0, now, false},
		{"date in the future is ignored", gofeed.Item{GUID: "g2", PublishedParsed: &future}, "g:f:" + hashKey("g2"), 0, now, false},
	}
	for _, tc := range tests {
		it := normalise(f, &tc.e, now)
		if it.Key != tc.wantKey || len(it.AltKeys) != tc.wantAlt || !it.Published.Equal(tc.published) || it.Dated != tc.dated {
			t.Errorf("%s: key %s alt %v published %v dated %v", tc.name, it.Key, it.AltKeys, it.Published, it.Dated)
		}
	}
	// The GUID scopes to its feed; the link does not.
	a := normalise(Feed{ID: "a"}, &gofeed.Item{GUID: "1", Link: "https://x.org/s"}, now)
	b := normalise(Feed{ID: "b"}, &gofeed.Item{GUID: "1", Link: "https://x.org/s?utm_medium=e"}, now)
	if a.Key == b.Key || a.AltKeys[0] != b.AltKeys[0] {
		t.Errorf("cross-feed identity: a=%s %v b=%s %v", a.Key, a.AltKeys, b.Key, b.AltKeys)
	}
}
