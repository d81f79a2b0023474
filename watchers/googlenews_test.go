package watchers

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// gnItem is one Google News search result as news.google.com/rss/search
// serves it: a redirect link, a GUID of its own, the title with
// " - Publisher" appended, an HTML description and the <source>.
type gnItem struct {
	ID, Title, Publisher, Site string
}

func googleNewsDoc(query string, items ...gnItem) string {
	var b strings.Builder
	fmt.Fprintf(&b, `<?xml version="1.0" encoding="UTF-8" standalone="yes"?><rss version="2.0" xmlns:media="http://search.yahoo.com/mrss/"><channel><generator>NFE/5.0</generator><title>"%s" - Google News</title><link>https://news.google.com/search?q=%s&amp;hl=en-GB&amp;gl=GB&amp;ceid=GB:en</link><language>en-GB</language>`, query, query)
	for _, it := range items {
		link := "https://news.google.com/rss/articles/CBMi" + it.ID + "?oc=5"
		fmt.Fprintf(&b, `<item><title>%s - %s</title><link>%s</link><guid isPermaLink="false">CBMi%s</guid><pubDate>%s</pubDate><description>&lt;a href="%s" target="_blank"&gt;%s&lt;/a&gt;&amp;nbsp;&amp;nbsp;&lt;font color="#6f6f6f"&gt;%s&lt;/font&gt;</description><source url="%s">%s</source></item>`,
			it.Title, it.Publisher, link, it.ID, rfc1123(t0.Add(-time.Hour)), link, it.Title, it.Publisher, it.Site, it.Publisher)
	}
	b.WriteString("</channel></rss>")
	return b.String()
}

// TestGoogleNews: the publisher named in <source> is the item's "where";
// the same story from two searches (two schools' per_school feeds), under
// different redirect links and GUIDs, is one story (publisher and
// normalised title); the same title from another publisher is another.
func TestGoogleNews(t *testing.T) {
	docs := map[string]string{
		"/harbourside": googleNewsDoc("Harbourside Academy",
			gnItem{ID: "AAA1", Title: "Harbourside Academy head resigns after Ofsted visit", Publisher: "Kent Online", Site: "https://www.kentonline.co.uk"},
		),
		"/stmarys": googleNewsDoc("St Mary's Folkestone",
			gnItem{ID: "BBB2", Title: "Harbourside Academy head resigns after Ofsted visit!", Publisher: "Kent Online", Site: "https://www.kentonline.co.uk"},
			gnItem{ID: "CCC3", Title: "Harbourside Academy head resigns after Ofsted visit", Publisher: "Dover Express", Site: "https://www.doverexpress.co.uk"},
		),
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/xml; charset=utf-8")
		w.Write([]byte(docs[r.URL.Path]))
	}))
	defer srv.Close()
	clock := &fakeClock{t: t0}
	p, sink := newPoller(openStore(t, t.TempDir()), clock)
	ctx := context.Background()

	if r := p.Poll(ctx, testFeed("gnews/990002", srv.URL+"/harbourside")); r.Err != nil || r.New != 1 {
		t.Fatalf("first search = %+v, want 1 new", r)
	}
	r := p.Poll(ctx, testFeed("gnews/990001", srv.URL+"/stmarys"))
	if r.Err != nil || r.Items != 2 || r.New != 1 {
		t.Fatalf("second search = %+v, want 1 of 2 new: Kent Online's story was seen in the first", r)
	}
	got := sink.newItems()
	if len(got) != 2 {
		t.Fatalf("%d new items, want 2", len(got))
	}
	if got[0].FeedName != "Kent Online" || got[1].FeedName != "Dover Express" {
		t.Errorf("where = %q, %q; want the publishers named in <source>", got[0].FeedName, got[1].FeedName)
	}
	if !strings.HasPrefix(got[0].Link, "https://news.google.com/rss/articles/CBMiAAA1") {
		t.Errorf("link = %q: the redirect link is kept (it cannot be unwrapped)", got[0].Link)
	}
}

func TestStoryKey(t *testing.T) {
	same := [][2]string{
		{"St Mary's: head resigns - Kent Online", "St Marys head resigns"},
		{"ST MARY’S — HEAD RESIGNS", "st marys head resigns"},
	}
	for _, c := range same {
		if a, b := storyKey("Kent Online", c[0]), storyKey("Kent Online", c[1]); a != b || a == "" {
			t.Errorf("storyKey(%q) = %q, storyKey(%q) = %q: want one story", c[0], a, c[1], b)
		}
	}
	if storyKey("Kent Online", "Head resigns") == storyKey("KentLive", "Head resigns") {
		t.Error("two publishers' stories share a key")
	}
	if storyKey("Kent Online", "Head resigns") == storyKey("Kent Online", "Head stays") {
		t.Error("two titles share a key")
	}
	if storyKey("Kent Online", " - Kent Online") != "" || storyKey("", "Title") != "" {
		t.Error("an empty title or publisher gave a key")
	}
}
