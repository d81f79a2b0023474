package watchers

import (
	"slices"
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
		{"link only, updated date", gofeed.Item{Link: "https://x.org/a", UpdatedParsed: &upd}, "l:x.org:" + hashKey("https://x.org/a", "", ""), 0, upd, true},
		{"link and text, no GUID", gofeed.Item{Link: "https://x.org/a", Title: "T", Description: "<p>body</p>"}, "l:x.org:" + hashKey("https://x.org/a", "T", "body"), 0, now, false},
		{"neither: title and text", gofeed.Item{Title: "T", Description: "<p>body</p>"}, "t:" + hashKey("T", "body"), 0, now, false},
		{"date in the future is ignored", gofeed.Item{GUID: "g2", PublishedParsed: &future}, "g:f:" + hashKey("g2"), 0, now, false},
	}
	for _, tc := range tests {
		it := normalise(f, &tc.e, now)
		if it.Key != tc.wantKey || len(it.AltKeys) != tc.wantAlt || !it.Published.Equal(tc.published) || it.Dated != tc.dated {
			t.Errorf("%s: key %s alt %v published %v dated %v", tc.name, it.Key, it.AltKeys, it.Published, it.Dated)
		}
	}
	// The GUID scopes to its feed; the link with the same text does not.
	a := normalise(Feed{ID: "a"}, &gofeed.Item{GUID: "1", Link: "https://x.org/s", Title: "Story"}, now)
	b := normalise(Feed{ID: "b"}, &gofeed.Item{GUID: "1", Link: "https://x.org/s?utm_medium=e", Title: "Story"}, now)
	if a.Key == b.Key || a.AltKeys[0] != b.AltKeys[0] {
		t.Errorf("cross-feed identity: a=%s %v b=%s %v", a.Key, a.AltKeys, b.Key, b.AltKeys)
	}
}

// TestLinkIsNotIdentity: a link seen before never makes a new post look
// seen. Posts without GUIDs that share a link (a notice board, a forum
// bridge) differ by their text; a new GUID on a known link is a new post
// unless its text is word for word the same.
func TestLinkIsNotIdentity(t *testing.T) {
	now := time.Date(2026, 11, 25, 8, 0, 0, 0, time.UTC)
	f := Feed{ID: "f"}
	keys := func(it Item) []string { return append([]string{it.Key}, it.AltKeys...) }
	shares := func(a, b Item) bool {
		for _, k := range keys(a) {
			if slices.Contains(keys(b), k) {
				return true
			}
		}
		return false
	}
	forum1 := normalise(f, &gofeed.Item{Link: "https://forum.example.org/", Title: "Parents evening", Description: "See you there"}, now)
	forum2 := normalise(f, &gofeed.Item{Link: "https://forum.example.org/", Title: "Re: Parents evening", Description: "I will bring a knife"}, now)
	if shares(forum1, forum2) {
		t.Errorf("two GUID-less posts on one link share an identity: %v %v", keys(forum1), keys(forum2))
	}
	rot1 := normalise(f, &gofeed.Item{GUID: "c-1", Link: "https://news.example.org/l", Title: "Fete", Description: "Cakes"}, now)
	rot2 := normalise(f, &gofeed.Item{GUID: "c-2", Link: "https://news.example.org/l", Title: "Threat", Description: "A knife"}, now)
	if shares(rot1, rot2) {
		t.Errorf("a new GUID with new text on a known link shares an identity: %v %v", keys(rot1), keys(rot2))
	}
	copy1 := normalise(f, &gofeed.Item{GUID: "c-3", Link: "https://news.example.org/l", Title: "Fete", Description: "Cakes"}, now)
	if !shares(rot1, copy1) {
		t.Errorf("the same link and text under another GUID is not the same story: %v %v", keys(rot1), keys(copy1))
	}
	// An edit keeps its GUID's identity and changes its fingerprint.
	edit := normalise(f, &gofeed.Item{GUID: "c-1", Link: "https://news.example.org/l", Title: "Fete", Description: "Knives"}, now)
	if edit.Key != rot1.Key || edit.Fingerprint == rot1.Fingerprint {
		t.Errorf("edit: key %s fingerprint %s, first %s %s", edit.Key, edit.Fingerprint, rot1.Key, rot1.Fingerprint)
	}
}

// TestCleanFeedFields: bidi controls and control characters do not survive
// into the title, the text or the author.
func TestCleanFeedFields(t *testing.T) {
	now := time.Date(2026, 11, 25, 8, 0, 0, 0, time.UTC)
	e := &gofeed.Item{
		GUID:        "1",
		Title:       "Oakfield \u202eloohcS\u202c Primary &#x2067;x&#x2069;",
		Description: "<p>line one\u200e\u200f\u061c</p><p>two &#27;[2J &amp;#8238;</p>",
		Author:      &gofeed.Person{Name: "Mr \u202e25:11 8202 naJ 1 noM\u2066\x07"},
	}
	it := normalise(Feed{ID: "f"}, e, now)
	if want := "Oakfield loohcS Primary x"; it.Title != want {
		t.Errorf("title %q, want %q", it.Title, want)
	}
	if want := "line one\n\ntwo [2J &#8238;"; it.Text != want {
		t.Errorf("text %q, want %q", it.Text, want)
	}
	if want := "Mr 25:11 8202 naJ 1 noM"; it.Author != want {
		t.Errorf("author %q, want %q", it.Author, want)
	}
	for _, s := range []string{"plain ascii", "curly “quotes” – and … £5 ©", "تجربة", "tab\tand\nnewline"} {
		if needsClean(s) || clean(s) != s {
			t.Errorf("clean changed ordinary text %q to %q", s, clean(s))
		}
	}
}
