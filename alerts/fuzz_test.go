package alerts

import (
	"bytes"
	"encoding/base64"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	netmail "net/mail"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"

	"github.com/schoolwatch/schoolwatch/mail"
	"github.com/schoolwatch/schoolwatch/rules"
)

// fuzzGroup is a one-entry alert whose feed-supplied fields are the fuzzer's.
func fuzzGroup(title, text, author, link string) *Group {
	f := Alert{
		ItemKey: "k", FeedID: "feed", FeedName: author + " feed", Title: title, Link: link, Author: author,
		Published: time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC), Dated: true,
		SchoolID: "1", SchoolName: "Oak School", RuleID: "threat", Category: "threat", Severity: "critical",
		Guidance: "threats-and-harassment", Matched: []string{text},
		Excerpt: []rules.Fragment{{Text: text}, {Text: title, Hit: true}},
	}
	return &Group{Recipient: "head@oak.example.org", SchoolID: "1", Kind: mail.KindAlert, Entries: []Entry{{Alert: f, Rules: []Alert{f}}},
		pending: []int64{1}, itemKeys: []string{"k"}, key: "alert-fuzz"}
}

// htmlShape returns the element names and attribute names in an HTML
// document, and its link targets.
func htmlShape(doc string) (tags, attrs map[string]bool, hrefs []string) {
	tags, attrs = map[string]bool{}, map[string]bool{}
	z := html.NewTokenizer(strings.NewReader(doc))
	for {
		tt := z.Next()
		if tt == html.ErrorToken {
			return
		}
		if tt != html.StartTagToken && tt != html.SelfClosingTagToken {
			continue
		}
		name, more := z.TagName()
		tags[string(name)] = true
		for more {
			var k, v []byte
			k, v, more = z.TagAttr()
			attrs[string(k)] = true
			if string(k) == "href" || string(k) == "src" {
				hrefs = append(hrefs, string(v))
			}
		}
	}
}

// mailParts parses a rendered message into its header and decoded text
// and HTML bodies (not the attachments: see mailAttachments).
func mailParts(t testing.TB, raw []byte) (netmail.Header, string, string) {
	t.Helper()
	h, text, htm, _ := parseMail(t, raw)
	return h, text, htm
}

// mailAttachments returns a rendered message's attachments by file name,
// decoded.
func mailAttachments(t testing.TB, raw []byte) map[string][]byte {
	t.Helper()
	_, _, _, att := parseMail(t, raw)
	return att
}

func parseMail(t testing.TB, raw []byte) (h netmail.Header, text, htm string, att map[string][]byte) {
	t.Helper()
	m, err := netmail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("rendered mail does not parse: %v", err)
	}
	att = map[string][]byte{}
	var walk func(ct string, body io.Reader)
	walk = func(ct string, body io.Reader) {
		mt, params, err := mime.ParseMediaType(ct)
		if err != nil {
			t.Fatalf("Content-Type %q: %v", ct, err)
		}
		if !strings.HasPrefix(mt, "multipart/") {
			return
		}
		mr := multipart.NewReader(body, params["boundary"])
		for {
			p, err := mr.NextRawPart()
			if err != nil {
				break
			}
			pct := p.Header.Get("Content-Type")
			var r io.Reader = p
			switch strings.ToLower(p.Header.Get("Content-Transfer-Encoding")) {
			case "quoted-printable":
				r = quotedprintable.NewReader(p)
			case "base64":
				r = base64.NewDecoder(base64.StdEncoding, p)
			}
			switch {
			case strings.HasPrefix(pct, "multipart/"):
				walk(pct, p)
				continue
			case p.FileName() != "":
				b, err := io.ReadAll(r)
				if err != nil {
					t.Fatalf("attachment %s: %v", p.FileName(), err)
				}
				att[p.FileName()] = b
				continue
			}
			b, _ := io.ReadAll(r)
			if strings.HasPrefix(pct, "text/html") {
				htm = string(b)
			} else {
				text = string(b)
			}
		}
	}
	walk(m.Header.Get("Content-Type"), m.Body)
	return m.Header, text, htm, att
}

// FuzzRender renders an alert from hostile feed fields: it never panics,
// the headers are exactly the renderer's own, and the HTML part contains
// no element, attribute or link that the feed supplied.
func FuzzRender(f *testing.F) {
	r := testRenderer()
	base, err := r.Render(fuzzGroup("A title", "some text", "someone", "https://example.org/post"), time.Now())
	if err != nil {
		f.Fatal(err)
	}
	baseHeader, _, baseHTML := mailParts(f, base.Raw)
	okTags, okAttrs, _ := htmlShape(baseHTML)

	f.Add("A title", "some text", "someone", "https://example.org/post")
	f.Add("<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "\"><svg onload=alert(1)>", "javascript:alert(1)")
	f.Add("Hi\r\nBcc: victim@evil.example\r\nSubject: pwned", "line\r\n.\r\nMAIL FROM:<x@y>", "a\x00b", "data:text/html,<script>x</script>")
	f.Add("</p></div></body><a href=\"https://evil.example\">click</a>", "{{ .Recipient }}", "=?utf-8?q?=41?=", "https://example.org/\"onmouseover=\"x")
	f.Add(strings.Repeat("é", 300), "\u2028\u2029\ufeff", "\xff\xfe", "HTTPS://EXAMPLE.ORG/<b>")
	f.Add("\u202eloohcS\u202c", "\x1b]0;PWNED\x07\x1b[2J", "Mr \u202e25:11 8202 naJ 1 noM", "https://x.example/?q=\u2066\u0085")
	f.Fuzz(func(t *testing.T, title, text, author, link string) {
		m, err := r.Render(fuzzGroup(title, text, author, link), time.Now())
		if err != nil {
			return // refusing to render is safe; rendering wrongly is not
		}
		h, text, htm := mailParts(t, m.Raw)
		for name, part := range map[string]string{"text": text, "html": htm} {
			if i := strings.IndexFunc(part, unsafeDisplay); i >= 0 {
				t.Errorf("%s part shows %U from the feed", name, []rune(part[i:])[0])
			}
		}
		for k := range h {
			if _, ok := baseHeader[k]; !ok {
				t.Errorf("feed text added the header %q", k)
			}
		}
		if s := h.Get("Subject"); strings.ContainsAny(s, "\r\n") {
			t.Errorf("subject spans lines: %q", s)
		}
		tags, attrs, hrefs := htmlShape(htm)
		for tag := range tags {
			if !okTags[tag] {
				t.Errorf("feed markup reached the HTML: element <%s>", tag)
			}
		}
		for a := range attrs {
			if !okAttrs[a] {
				t.Errorf("feed markup reached the HTML: attribute %q", a)
			}
		}
		for _, u := range hrefs {
			l := strings.ToLower(strings.TrimSpace(u))
			if !strings.HasPrefix(l, "https://") && !strings.HasPrefix(l, "http://") && !strings.HasPrefix(l, "mailto:") && !strings.HasPrefix(l, "tel:") && !strings.HasPrefix(l, "#") {
				t.Errorf("unsafe link target %q", u)
			}
		}
	})
}
