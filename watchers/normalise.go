package watchers

import (
	"crypto/sha256"
	"encoding/hex"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/mmcdole/gofeed"
	"golang.org/x/net/html"
)

// Caps on what one item may carry into the pipeline.
const (
	MaxTitleLen = 1000
	MaxTextLen  = 20000
)

// normalise turns a parsed entry into an Item. now is the first-seen time
// used when the entry has no date.
func normalise(f Feed, e *gofeed.Item, now time.Time) Item {
	it := Item{
		FeedID:   f.ID,
		FeedName: f.Name,
		Title:    truncate(collapse(HTMLToText(e.Title)), MaxTitleLen),
		Link:     canonicalLink(strings.TrimSpace(e.Link)),
	}
	body := e.Content
	if strings.TrimSpace(HTMLToText(body)) == "" {
		body = e.Description
	}
	it.Text = truncate(strings.TrimSpace(HTMLToText(body)), MaxTextLen)
	if e.Author != nil {
		it.Author = truncate(collapse(e.Author.Name), 200)
	} else if len(e.Authors) > 0 && e.Authors[0] != nil {
		it.Author = truncate(collapse(e.Authors[0].Name), 200)
	}
	switch {
	case e.PublishedParsed != nil:
		it.Published, it.Dated = *e.PublishedParsed, true
	case e.UpdatedParsed != nil:
		it.Published, it.Dated = *e.UpdatedParsed, true
	default:
		it.Published = now
	}
	it.Key = itemKey(f, strings.TrimSpace(e.GUID), it)
	return it
}

// itemKey is the item's identity. A link identifies a story across feeds
// (two feeds carrying the same article alert once); without one, the GUID
// identifies it within its feed; without either, its title and text do.
func itemKey(f Feed, guid string, it Item) string {
	h := sha256.New()
	switch {
	case it.Link != "":
		h.Write([]byte("link\x00" + it.Link))
	case guid != "":
		h.Write([]byte("guid\x00" + f.ID + "\x00" + guid))
	default:
		h.Write([]byte("text\x00" + it.Title + "\x00" + it.Text))
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// canonicalLink removes what makes the same article look like two: Google
// Alerts redirect wrappers, tracking parameters and fragments.
func canonicalLink(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
		return raw
	}
	if strings.HasSuffix(u.Host, "google.com") && u.Path == "/url" {
		q := u.Query()
		for _, k := range []string{"url", "q"} {
			if t := q.Get(k); strings.HasPrefix(t, "http") {
				return canonicalLink(t)
			}
		}
	}
	q := u.Query()
	for k := range q {
		lk := strings.ToLower(k)
		if strings.HasPrefix(lk, "utm_") || lk == "fbclid" || lk == "gclid" || lk == "mc_cid" || lk == "mc_eid" || lk == "ref_src" {
			q.Del(k)
		}
	}
	u.RawQuery = q.Encode()
	u.Fragment = ""
	u.Host = strings.ToLower(u.Host)
	return u.String()
}

// HTMLToText returns the text of an HTML fragment: tags removed, entities
// decoded, scripts and styles dropped, block elements on their own lines.
func HTMLToText(s string) string {
	if !strings.ContainsAny(s, "<&") {
		return s
	}
	z := html.NewTokenizer(strings.NewReader(s))
	var b strings.Builder
	skip := 0
	for {
		switch z.Next() {
		case html.ErrorToken:
			return strings.TrimSpace(b.String())
		case html.TextToken:
			if skip == 0 {
				b.Write(z.Text())
			}
		case html.StartTagToken, html.SelfClosingTagToken:
			name, _ := z.TagName()
			switch string(name) {
			case "script", "style", "noscript", "template", "iframe", "object":
				skip++
			case "br", "p", "div", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote":
				b.WriteByte('\n')
			case "td", "th", "img":
				b.WriteByte(' ')
			}
		case html.EndTagToken:
			name, _ := z.TagName()
			switch string(name) {
			case "script", "style", "noscript", "template", "iframe", "object":
				if skip > 0 {
					skip--
				}
			case "p", "div", "li", "blockquote":
				b.WriteByte('\n')
			}
		}
	}
}

// collapse folds runs of white space (including newlines) into one space.
func collapse(s string) string { return strings.Join(strings.Fields(s), " ") }

func truncate(s string, max int) string {
	if len(s) <= max {
		return s
	}
	s = s[:max]
	for !utf8.ValidString(s) && len(s) > 0 {
		s = s[:len(s)-1]
	}
	return s + "…"
}
