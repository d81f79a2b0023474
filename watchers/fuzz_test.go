package watchers

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// FuzzNormalise parses arbitrary documents as feeds and normalises every
// item: nothing panics, no more than the cap's items are built, and every
// item leaves bounded, single-line titles, bounded text free of bidi and
// control characters, an identity and a date no later than a day ahead.
func FuzzNormalise(f *testing.F) {
	for _, name := range []string{"local-news.xml", "community.atom"} {
		if b, err := os.ReadFile(filepath.Join("..", "examples", "feeds", name)); err == nil {
			f.Add(b)
		}
	}
	for _, s := range []string{
		`<rss><channel><item><title>a</title></item></channel></rss>`,
		`<?xml version="1.0" encoding="ISO-8859-1"?><rss version="2.0"><channel><item><guid>1</guid><title>Caf` + "\xe9" + `</title><pubDate>Mon, 01 Jan 2999 00:00:00 GMT</pubDate></item></channel></rss>`,
		`<feed xmlns="http://www.w3.org/2005/Atom"><entry><id>x</id><title type="html">&lt;script&gt;alert(1)&lt;/script&gt;Hi&#13;&#10;Bcc: a@b</title><content type="html"><![CDATA[<p>one<br>two</p><style>x{}</style>]]></content><updated>1970-01-01T00:00:00Z</updated></entry></feed>`,
		`{"version":"https://jsonfeed.org/version/1.1","title":"j","items":[{"id":"1","content_html":"<b>x</b>","url":"https://www.google.com/url?q=https://a.example/b%3Futm_source%3Dx"}]}`,
		`<rss><channel><item><guid>d</guid><title>one</title></item><item><guid>d</guid><title>two</title></item></channel></rss>`,
		`<rss><channel><item><title>` + strings.Repeat("long ", 500) + `</title><description>` + strings.Repeat("&amp;lt;", 200) + `</description></item></channel></rss>`,
		"<rss><channel><item><title>\x00\xff\xfe</title><link>javascript:alert(1)</link></item></channel></rss>",
		"<rss><channel><item><title>\x93Tom\x94 &#27; &#x202E;</title></item><item><![CDATA[<item>]]><!-- <item> --></item></channel></rss>",
		`<feed xmlns="http://www.w3.org/2005/Atom">` + strings.Repeat("<entry/>", 20) + `</feed>`,
		`{"version":"https://jsonfeed.org/version/1.1","items":[{"id":"1","url":5,"authors":"bob","content_text":"a"},7,null,{"id":2}]}`,
		`<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/"><item><title>r</title></item></rdf:RDF>`,
	} {
		f.Add([]byte(s))
	}
	now := time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)
	feed := Feed{ID: "fuzz", Name: "Fuzz", URL: "https://example.org/feed", MaxItemAge: 72 * time.Hour}
	f.Fuzz(func(t *testing.T, data []byte) {
		const max = 8
		parsed, _, err := parse(&Response{Body: data}, max)
		if err != nil {
			if ErrorClass(err) == "" {
				t.Fatalf("unclassified parse error: %v", err)
			}
			return
		}
		if len(parsed.Items) > max {
			t.Errorf("%d items built, cap %d", len(parsed.Items), max)
		}
		for _, e := range parsed.Items {
			if e == nil {
				continue
			}
			it := normalise(feed, e, now)
			if it.Key == "" {
				t.Error("an item without an identity")
			}
			if strings.ContainsAny(it.Title, "\r\n") {
				t.Errorf("title spans lines: %q", it.Title)
			}
			if n := len(it.Title); n > MaxTitleLen+utf8.UTFMax {
				t.Errorf("title of %d bytes", n)
			}
			if n := len(it.Text); n > MaxTextLen+utf8.UTFMax {
				t.Errorf("text of %d bytes", n)
			}
			for _, s := range []string{it.Title, it.Text, it.Author} {
				if needsClean(s) {
					t.Errorf("bidi or control characters left in %q", s)
				}
			}
			if it.Published.After(now.Add(24 * time.Hour)) {
				t.Errorf("published in the future: %v", it.Published)
			}
			if strings.Contains(strings.ToLower(it.Text), "<script") && strings.Contains(strings.ToLower(e.Content+e.Description), "<script") && !strings.Contains(e.Content+e.Description, "&lt;") {
				t.Errorf("script markup survived as text: %q", it.Text)
			}
		}
	})
}

// FuzzHTMLToText checks the HTML-to-text step on its own: no panic, and
// the text of a document never keeps a script element's body.
func FuzzHTMLToText(f *testing.F) {
	for _, s := range []string{"", "plain", "<p>a<br>b</p>", "<script>evil()</script>ok", "&lt;script&gt;", "<scr<script>ipt>", "<style>x</style><iframe>y</iframe>z", "<p>" + strings.Repeat("<b>", 1000)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := HTMLToText(s)
		if !strings.ContainsAny(s, "<&") && out != s {
			t.Errorf("text without markup changed: %q -> %q", s, out)
		}
		if len(out) > 4*len(s)+16 {
			t.Errorf("output of %d bytes from %d", len(out), len(s))
		}
	})
}
