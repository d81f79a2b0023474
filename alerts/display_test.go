package alerts

import (
	"strings"
	"testing"
	"time"
	"unicode"

	"golang.org/x/net/html"

	"github.com/schoolwatch/schoolwatch/mail"
	"github.com/schoolwatch/schoolwatch/rules"
)

func TestSanitizeText(t *testing.T) {
	tests := []struct {
		name, in string
		max      int
		want     string
	}{
		{"plain", "Parents worried", 0, "Parents worried"},
		{"bidi override removed", "Mr \u202e25:11 8202 naJ 1 noM", 0, "Mr 25:11 8202 naJ 1 noM"},
		{"every bidi control removed", "a\u202ab\u202bc\u202cd\u202de\u2066f\u2067g\u2068h\u2069i\u200ej\u200fk\u061cl", 0, "abcdefghijkl"},
		{"terminal escapes", "x\x1b]0;PWNED\x07\x1b[2Jy", 0, "x ]0;PWNED [2Jy"},
		{"CR LF and tabs", "line one\r\nline two\tend", 0, "line one line two end"},
		{"C1 controls", "a\u0085b\u009bc", 0, "a b c"},
		{"DEL and NUL", "a\x7fb\x00c", 0, "a b c"},
		{"line and paragraph separators", "a\u2028b\u2029c", 0, "a b c"},
		{"invalid UTF-8", "a\xffb", 0, "a b"},
		{"runs fold and ends trim", "  a   b  ", 0, "a b"},
		{"look-alikes and zero-width kept", "kn\u200bife \u041eakfield", 0, "kn\u200bife \u041eakfield"},
		{"emoji and accents kept", "Zoë 👍 Łódź", 0, "Zoë 👍 Łódź"},
		{"cut", "abcdefghij", 5, "abcd…"},
		{"cut counts characters", strings.Repeat("é", 10), 4, "ééé…"},
		{"only controls", "\u202e\x1b\r\n", 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := SanitizeText(tt.in, tt.max); got != tt.want {
				t.Errorf("SanitizeText(%q, %d) = %q, want %q", tt.in, tt.max, got, tt.want)
			}
			// Mail subjects go through the same sanitiser.
			if got := (&Letterhead{}).subjectLine(tt.in); got != SanitizeText(tt.in, MaxSubjectLen) {
				t.Errorf("subjectLine differs from SanitizeText: %q", got)
			}
		})
	}
}

// unsafeDisplay reports a bidi control, or a control character other than
// the line ends and tabs of the message's own layout.
func unsafeDisplay(r rune) bool {
	return isBidiControl(r) || unicode.IsControl(r) && r != '\n' && r != '\r' && r != '\t' || r == '\u2028' || r == '\u2029'
}

// The F10 spoof: an author carrying U+202E made the mail show a forged
// date. No bidi control from any feed field may reach either part.
func TestBidiControlsNeverReachTheMail(t *testing.T) {
	f := Alert{
		ItemKey: "k", FeedID: "news", FeedName: "Gazette \u2067ettezaG\u2069", Title: "Trouble at \u202eloohcS yramirP dleifkaO\u202c today",
		Link: "https://news.example.org/p?q=\u202e&r=\u2066x", Author: "Mr \u202e25:11 8202 naJ 1 noM",
		Published: time.Date(2026, 11, 24, 21, 15, 0, 0, time.UTC), Dated: true,
		SchoolID: "1", SchoolName: "Oakfield Primary School", RuleID: "threat", Category: "threat", Severity: "critical",
		Guidance: "threats-and-harassment", Matched: []string{"knife"},
		Excerpt: []rules.Fragment{{Text: "\u202eOakfield\x1b[2J "}, {Text: "knife", Hit: true}, {Text: " \u200fend\u2068"}},
	}
	g := &Group{Recipient: "head@oak.example.org", SchoolID: "1", Kind: mail.KindAlert, Entries: []Entry{{Alert: f, Rules: []Alert{f}}},
		pending: []int64{1}, itemKeys: []string{"k"}, key: "alert-bidi"}
	m, err := testRenderer().Render(g, time.Date(2026, 11, 25, 7, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	_, text, htm := mailParts(t, m.Raw)
	for name, part := range map[string]string{"text": text, "html": htm} {
		if i := strings.IndexFunc(part, unsafeDisplay); i >= 0 {
			t.Errorf("%s part has %U at byte %d: %q", name, []rune(part[i:])[0], i, part[max(0, i-40):min(len(part), i+40)])
		}
	}
	for _, want := range []string{
		"Where:     Gazette ettezaG (posted by Mr 25:11 8202 naJ 1 noM)",
		"When:      Tue 24 Nov 2026 21:15 UTC",
		"Post:      Trouble at loohcS yramirP dleifkaO today",
		"Excerpt:   Oakfield [2J **knife** end",
		"Link:      https://news.example.org/p?q=%E2%80%AE&r=%E2%81%A6x",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("text part lacks %q:\n%s", want, text)
		}
	}
	// In the HTML each feed field is also isolated, so right-to-left text in
	// an author's name cannot pull the date beside it out of order.
	if !strings.Contains(htm, "posted by <bdi>Mr 25:11 8202 naJ 1 noM</bdi>") {
		t.Errorf("HTML part does not isolate the author:\n%s", htm)
	}
}

// F20: a word far wider than a phone wraps instead of widening the card.
// Every element that shows a feed field must allow breaking inside a word.
func TestLongWordsWrapInHTML(t *testing.T) {
	long := func(c string) string { return strings.Repeat(c, 1000) }
	f := Alert{
		ItemKey: "k", FeedID: "news", FeedName: long("F"), Title: long("T"), Link: "https://news.example.org/" + long("l"), Author: long("A"),
		Published: time.Date(2026, 11, 24, 21, 15, 0, 0, time.UTC), Dated: true,
		SchoolID: "1", SchoolName: "Oakfield Primary School", RuleID: "threat", Category: "threat", Severity: "critical",
		Guidance: "threats-and-harassment", Matched: []string{"knife"},
		Excerpt: []rules.Fragment{{Text: long("E") + " "}, {Text: "knife", Hit: true}},
	}
	g := &Group{Recipient: "head@oak.example.org", SchoolID: "1", Kind: mail.KindAlert, Entries: []Entry{{Alert: f, Rules: []Alert{f}}},
		pending: []int64{1}, itemKeys: []string{"k"}, key: "alert-long"}
	m, err := testRenderer().Render(g, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	_, _, htm := mailParts(t, m.Raw)
	doc, err := html.Parse(strings.NewReader(htm))
	if err != nil {
		t.Fatal(err)
	}
	wraps := func(n *html.Node) bool {
		for ; n != nil; n = n.Parent {
			for _, a := range n.Attr {
				if a.Key == "style" && strings.Contains(a.Val, "overflow-wrap:anywhere") && strings.Contains(a.Val, "word-break:break-word") {
					return true
				}
			}
		}
		return false
	}
	found := map[string]bool{}
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.TextNode {
			for _, c := range []string{"F", "T", "A", "E"} {
				if strings.Contains(n.Data, long(c)) {
					found[c] = true
					if !wraps(n.Parent) {
						t.Errorf("the long %s field sits in <%s> with no overflow-wrap:anywhere / word-break:break-word around it", c, n.Parent.Data)
					}
				}
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	if len(found) != 4 {
		t.Errorf("found the long fields %v in the HTML, want feed, title, author and excerpt", found)
	}
	if !strings.Contains(htm, ".sw-wrap { word-wrap: break-word; overflow-wrap: anywhere; word-break: break-word; }") {
		t.Errorf("the sw-wrap class is missing from the style sheet")
	}
}

func TestSafeLinkIsPrintableASCII(t *testing.T) {
	tests := []struct{ in, want string }{
		{"https://news.example.org/a?b=c", "https://news.example.org/a?b=c"},
		{"https://x.example/?q=\u202e", "https://x.example/?q=%E2%80%AE"},
		{"https://x.example/?q=caf\u00e9 au", "https://x.example/?q=caf%C3%A9%20au"},
		{"https://x.example/\x1b]0;PWNED\x07", ""},
		{"https://x.example/a\r\nb", ""},
		{"javascript:alert(1)", ""},
	}
	for _, tt := range tests {
		if got := safeLink(tt.in); got != tt.want {
			t.Errorf("safeLink(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestSanitizeExcerptKeepsSeparatingSpaces(t *testing.T) {
	in := []rules.Fragment{{Text: "at \u202eOakfield\x1b "}, {Text: "\u200fknife", Hit: true}, {Text: "\r\n"}, {Text: "bomb", Hit: true}, {Text: "\u202e"}}
	var b strings.Builder
	for _, f := range sanitizeExcerpt(in) {
		if f.Hit {
			b.WriteString("[" + f.Text + "]")
		} else {
			b.WriteString(f.Text)
		}
	}
	if got, want := b.String(), "at Oakfield [knife] [bomb]"; got != want {
		t.Errorf("excerpt = %q, want %q", got, want)
	}
}
