package watchers

import (
	"crypto/sha256"
	"encoding/hex"
	"net/url"
	"strings"
	"time"
	"unicode"
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
		Title:    truncate(collapse(clean(HTMLToText(e.Title))), MaxTitleLen),
		Link:     canonicalLink(strings.TrimSpace(e.Link)),
	}
	body := HTMLToText(e.Content)
	if strings.TrimSpace(body) == "" {
		body = HTMLToText(e.Description)
	}
	it.Text = truncate(tidy(clean(body)), MaxTextLen)
	if e.Author != nil {
		it.Author = truncate(collapse(clean(e.Author.Name)), 200)
	} else if len(e.Authors) > 0 && e.Authors[0] != nil {
		it.Author = truncate(collapse(clean(e.Authors[0].Name)), 200)
	}
	switch {
	case e.PublishedParsed != nil:
		it.Published, it.Dated = *e.PublishedParsed, true
	case e.UpdatedParsed != nil:
		it.Published, it.Dated = *e.UpdatedParsed, true
	default:
		it.Published = now
	}
	// A date in the future is a broken or hostile feed; treat it as undated.
	if it.Published.After(now.Add(24 * time.Hour)) {
		it.Published, it.Dated = now, false
	}
	it.Fingerprint = hashKey(it.Title, it.Text)
	it.Key, it.AltKeys = itemKeys(f, strings.TrimSpace(e.GUID), it)
	if pub := truncate(collapse(clean(HTMLToText(e.Custom[customSource]))), 200); pub != "" {
		// An aggregator's item (Google News) names its publisher: that is
		// where the post is, and with the title it is the story's identity
		// across feeds, whatever redirect link each feed wraps it in.
		it.FeedName = pub
		if k := storyKey(pub, it.Title); k != "" {
			it.AltKeys = append(it.AltKeys, k)
		}
	}
	return it
}

// storyKey identifies a story by its publisher and its normalised title,
// for items from aggregators: Google News wraps every link in a redirect
// (news.google.com/rss/articles/...) that cannot be unwrapped without
// JavaScript, and two searches can wrap one story differently. The title
// loses the " - Publisher" Google News appends, case, punctuation and
// apostrophes, so "St Mary's: head resigns - Kent Online" and "St Marys
// head resigns" from Kent Online are one story.
func storyKey(publisher, title string) string {
	p := foldTitle(publisher)
	t := strings.TrimRightFunc(title, unicode.IsSpace)
	if cut, ok := strings.CutSuffix(t, " - "+publisher); ok {
		t = cut
	}
	t = foldTitle(t)
	if p == "" || t == "" {
		return ""
	}
	return "n:" + hashKey(p, t)
}

// foldTitle lower-cases s, drops apostrophes and turns every other run of
// characters that are not letters or digits into one space.
func foldTitle(s string) string {
	var b strings.Builder
	space := false
	for _, r := range strings.ToLower(s) {
		switch {
		case r == '\'' || r == '’' || r == 'ʼ' || r == '‘':
			continue
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			if space && b.Len() > 0 {
				b.WriteByte(' ')
			}
			space = false
			b.WriteRune(r)
		default:
			space = true
		}
	}
	return b.String()
}

// itemKeys returns an item's identity and its other identities.
//
// A GUID identifies an item within its feed, whatever its text becomes (an
// edit is the same post, re-checked by the store). Without a GUID an item
// is its link and its content together: notice boards and forum bridges
// give every post the same link, so a link alone would make each new post
// look like one already seen.
//
// The link with the content is also the alternative identity of an item
// with a GUID, so the same story carried by two feeds (per_school searches
// finding one post for two schools) alerts once, and a feed that gives the
// same post a new GUID at every poll does not alert at every poll. Only
// identical text is the same story: the rules match the text, so an item
// passed over as a duplicate can never have raised a finding the first one
// did not.
//
// Keys start with what groups them (the feed for a GUID, the site for a
// link) and end in a hash: one feed's keys then sit together in the store's
// index, so recording a poll's items touches a few index pages rather than
// one random page per item (the difference is most of a poll cycle's cost).
func itemKeys(f Feed, guid string, it Item) (key string, alt []string) {
	var link string
	if it.Link != "" {
		link = linkKey(it.Link, it.Title, it.Text)
	}
	switch {
	case guid != "" && link != "":
		return "g:" + f.ID + ":" + hashKey(guid), []string{link}
	case guid != "":
		return "g:" + f.ID + ":" + hashKey(guid), nil
	case link != "":
		return link, nil
	}
	return "t:" + it.Fingerprint, nil
}

// linkKey is the identity of a canonical link carrying a title and text.
func linkKey(link, title, text string) string {
	host := ""
	if u, err := url.Parse(link); err == nil {
		host = u.Host
	}
	return "l:" + host + ":" + hashKey(link, title, text)
}

// hashKey hashes its parts, NUL-separated, into a short hex string.
func hashKey(parts ...string) string {
	h := sha256.New()
	for i, p := range parts {
		if i > 0 {
			h.Write([]byte{0})
		}
		h.Write([]byte(p))
	}
	var sum [sha256.Size]byte
	return hex.EncodeToString(h.Sum(sum[:0])[:16])
}

// trackingParam reports whether a query parameter only tracks the reader.
func trackingParam(k string) bool {
	k = strings.ToLower(k)
	if strings.HasPrefix(k, "utm_") {
		return true
	}
	switch k {
	case "fbclid", "gclid", "dclid", "msclkid", "mc_cid", "mc_eid", "ref_src", "ref_url", "igshid", "_hsenc", "_hsmi", "oly_enc_id", "oly_anon_id", "cmpid", "ito":
		return true
	}
	return false
}

// canonicalLink removes what makes the same article look like two: Google
// (Alerts, News) redirect wrappers, tracking parameters, fragments, the
// case of the host and default ports.
func canonicalLink(raw string) string {
	return canonical(raw, 3)
}

func canonical(raw string, depth int) string {
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	u.Scheme = strings.ToLower(u.Scheme)
	if u.Scheme != "http" && u.Scheme != "https" {
		return raw
	}
	u.Host = strings.ToLower(u.Host)
	if depth > 0 && isGoogleHost(u.Hostname()) && u.Path == "/url" {
		q := u.Query()
		for _, k := range []string{"url", "q"} {
			if t := q.Get(k); strings.HasPrefix(t, "http://") || strings.HasPrefix(t, "https://") {
				return canonical(t, depth-1)
			}
		}
	}
	if p := u.Port(); (p == "80" && u.Scheme == "http") || (p == "443" && u.Scheme == "https") {
		u.Host = u.Hostname()
	}
	if u.RawQuery != "" {
		q := u.Query()
		for k := range q {
			if trackingParam(k) {
				q.Del(k)
			}
		}
		u.RawQuery = q.Encode()
	}
	u.Fragment, u.RawFragment = "", ""
	if u.Path == "" {
		u.Path = "/"
	}
	return u.String()
}

func isGoogleHost(h string) bool {
	h = strings.TrimPrefix(h, "www.")
	return h == "google.com" || strings.HasPrefix(h, "google.") || strings.HasSuffix(h, ".google.com")
}

// HTMLToText returns the text of an HTML fragment: tags removed, entities
// decoded, scripts and styles dropped, block elements on their own lines.
func HTMLToText(s string) string {
	if !strings.ContainsAny(s, "<&") {
		return s
	}
	if !strings.Contains(s, "<") {
		return html.UnescapeString(s) // entities only: no tokenizer needed
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

// tidy trims each line, folds runs of spaces and keeps at most one blank
// line between paragraphs.
func tidy(s string) string {
	if s == "" {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	blank := 0
	for line := range strings.Lines(s) {
		f := strings.Fields(line)
		if len(f) == 0 {
			blank++
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('\n')
			if blank > 0 {
				b.WriteByte('\n')
			}
		}
		blank = 0
		for i, w := range f {
			if i > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(w)
		}
	}
	return b.String()
}

// clean removes what feed text must not carry into matching and mail:
// bidirectional controls (U+202A-202E, U+2066-2069, U+200E, U+200F,
// U+061C), with which a post reorders how the author, date or school name
// around it are displayed, and control characters other than white space
// (a feed may carry them as character references).
func clean(s string) string {
	if !needsClean(s) {
		return s // the usual case, without a copy
	}
	return strings.Map(func(r rune) rune {
		if r < 0x20 && r != '\t' && r != '\n' && r != '\r' || r >= 0x7f && r <= 0x9f || isBidiControl(r) {
			return -1
		}
		return r
	}, s)
}

// needsClean reports whether s holds anything clean removes, looking at
// the UTF-8 bytes directly.
func needsClean(s string) bool {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c < 0x20:
			if c != '\t' && c != '\n' && c != '\r' {
				return true
			}
		case c == 0x7f:
			return true
		case c == 0xc2: // U+0080-009F
			if i+1 < len(s) && s[i+1] >= 0x80 && s[i+1] <= 0x9f {
				return true
			}
		case c == 0xd8: // U+061C
			if i+1 < len(s) && s[i+1] == 0x9c {
				return true
			}
		case c == 0xe2: // U+200E-200F, U+202A-202E, U+2066-2069
			if i+2 < len(s) {
				b1, b2 := s[i+1], s[i+2]
				if b1 == 0x80 && (b2 == 0x8e || b2 == 0x8f || b2 >= 0xaa && b2 <= 0xae) || b1 == 0x81 && b2 >= 0xa6 && b2 <= 0xa9 {
					return true
				}
			}
		}
	}
	return false
}

// isBidiControl reports whether r is an explicit bidirectional formatting
// character or mark.
func isBidiControl(r rune) bool {
	return r >= 0x202a && r <= 0x202e || r >= 0x2066 && r <= 0x2069 || r == 0x200e || r == 0x200f || r == 0x061c
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
