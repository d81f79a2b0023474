package alerts

import (
	"bytes"
	"embed"
	"fmt"
	htmltemplate "html/template"
	"net/url"
	"slices"
	"strings"
	texttemplate "text/template"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/schoolwatch/schoolwatch/guidance"
	"github.com/schoolwatch/schoolwatch/rules"
	"github.com/schoolwatch/schoolwatch/store"
)

//go:embed templates
var templateFS embed.FS

var (
	textTmpl = texttemplate.Must(texttemplate.ParseFS(templateFS, "templates/mail.txt.tmpl"))
	htmlTmpl = htmltemplate.Must(htmltemplate.ParseFS(templateFS, "templates/mail.html.tmpl"))
)

// MaxSubjectLen caps the subject, in characters.
const MaxSubjectLen = 160

// Renderer renders groups of findings into complete mails.
type Renderer struct {
	Pack          *guidance.Pack
	From          string // "Name <addr>"
	SubjectPrefix string
	Location      *time.Location
	// Hostname is the right-hand side of Message-IDs.
	Hostname string
}

// Labels are the plain-English names of rule categories in subjects.
var Labels = map[string]string{
	"threat":        "Possible threat",
	"allegation":    "Possible allegation against staff",
	"safeguarding":  "Possible safeguarding concern",
	"complaint":     "Complaint raised online",
	"defamation":    "Possibly defamatory post",
	"privacy":       "Pupil images or personal data posted",
	"media":         "Media interest",
	"impersonation": "Fake or impersonating account",
	"staff-abuse":   "Abuse aimed at a member of staff",
	"other":         "School mentioned online",
}

var colours = map[string]string{"critical": "#b00020", "high": "#c25400", "normal": "#0b57d0", "low": "#5f6368"}

type entryView struct {
	Severity, Label, School, Title, Source, Author, When, Link, Why, Advice, Colour string
	Excerpt                                                                         []rules.Fragment
}

type sectionView struct {
	ID, Title, Text string
	HTML            htmltemplate.HTML
}

type contactView struct {
	guidance.Contact
	Verified string
}

// Tel is the contact's phone number as a tel: URL.
func (c contactView) Tel() htmltemplate.URL {
	var b strings.Builder
	for _, r := range c.Phone {
		if unicode.IsDigit(r) || r == '+' {
			b.WriteRune(r)
		}
	}
	return htmltemplate.URL("tel:" + b.String())
}

type mailData struct {
	Kind, Recipient, School, Subject, AreaNote string
	Entries                                    []entryView
	Sections                                   []sectionView
	Contacts                                   []contactView
}

// Render builds the outbox message for a group.
func (r *Renderer) Render(g *Group, now time.Time) (store.Message, error) {
	d := mailData{Kind: g.Kind, Recipient: g.Recipient}
	if len(g.Entries) > 0 {
		d.School = g.Entries[0].SchoolName
	}
	sectionIDs := []string{"first-steps"}
	for _, e := range g.Entries {
		for _, f := range e.Rules {
			if f.Guidance != "" && !slices.Contains(sectionIDs, f.Guidance) {
				sectionIDs = append(sectionIDs, f.Guidance)
			}
		}
		d.Entries = append(d.Entries, r.entry(e))
	}
	d.Subject = r.subject(g)
	seenContact := map[string]bool{}
	var shown []guidance.Contact
	for _, id := range sectionIDs {
		s, ok := r.Pack.Section(id)
		if !ok {
			continue
		}
		d.Sections = append(d.Sections, sectionView{ID: s.ID, Title: s.Title, Text: s.Text(), HTML: s.HTML()})
		for _, c := range r.Pack.ContactsFor(s) {
			if seenContact[c.Name] {
				continue
			}
			seenContact[c.Name] = true
			cv := contactView{Contact: c}
			if !c.Verified.IsZero() {
				cv.Verified = c.Verified.Format("2 January 2006")
			}
			d.Contacts = append(d.Contacts, cv)
			shown = append(shown, c)
		}
	}
	// The guidance package owns the wording of the area caveat, so the
	// alert, the digest and `schoolwatch guidance` all say the same thing.
	d.AreaNote = guidance.AreaNote(shown)
	var text, html bytes.Buffer
	if err := textTmpl.Execute(&text, d); err != nil {
		return store.Message{}, err
	}
	if err := htmlTmpl.Execute(&html, d); err != nil {
		return store.Message{}, err
	}
	m := store.Message{Key: g.key, Kind: g.Kind, Recipient: g.Recipient, Subject: d.Subject}
	raw, err := BuildMessage(Envelope{
		From: r.From, To: g.Recipient, Subject: d.Subject, MessageID: MessageID(g.key, r.Hostname), Date: now,
	}, text.String(), html.String())
	if err != nil {
		return store.Message{}, err
	}
	m.Raw = raw
	return m, nil
}

func (r *Renderer) entry(e Entry) entryView {
	v := entryView{
		Severity: strings.ToUpper(e.Severity),
		Label:    label(e.Category),
		School:   e.SchoolName,
		Title:    SanitizeText(e.Title, 0),
		Source:   SanitizeText(e.FeedName, 0),
		Author:   SanitizeText(e.Author, 0),
		Link:     safeLink(e.Link),
		Excerpt:  sanitizeExcerpt(e.Excerpt),
		Colour:   colours[e.Severity],
	}
	if v.Colour == "" {
		v.Colour = colours["normal"]
	}
	loc := r.Location
	if loc == nil {
		loc = time.UTC
	}
	v.When = e.Published.In(loc).Format("Mon 2 Jan 2006 15:04 MST")
	if !e.Dated {
		v.When += " (first seen; the post gave no date)"
	}
	var why, advice []string
	for _, f := range e.Rules {
		why = append(why, fmt.Sprintf("rule %q (%s) matched %s", f.RuleID, f.Category, quoteTerms(f.Matched)))
		if s, ok := r.Pack.Section(f.Guidance); ok && !slices.Contains(advice, s.Title) {
			advice = append(advice, s.Title)
		}
	}
	v.Why = strings.Join(why, "; ")
	v.Advice = "First steps"
	if len(advice) > 0 {
		v.Advice += ", then " + strings.Join(advice, ", ")
	}
	return v
}

func quoteTerms(ts []string) string {
	q := make([]string, len(ts))
	for i, t := range ts {
		q[i] = fmt.Sprintf("%q", t)
	}
	return strings.Join(q, ", ")
}

func label(category string) string {
	if l, ok := Labels[category]; ok {
		return l
	}
	return Labels["other"]
}

func (r *Renderer) subject(g *Group) string {
	prefix := r.SubjectPrefix
	if len(g.Entries) == 0 {
		return prefix + " (empty)"
	}
	top := g.Entries[0]
	var s string
	if g.Kind == "digest" {
		s = fmt.Sprintf("%s Daily digest: %d item", prefix, len(g.Entries))
		if len(g.Entries) != 1 {
			s += "s"
		}
	} else {
		s = fmt.Sprintf("%s[%s] %s — %s", prefix, strings.ToUpper(top.Severity), label(top.Category), top.SchoolName)
		if n := len(g.Entries) - 1; n > 0 {
			s += fmt.Sprintf(" (+%d more)", n)
		}
	}
	return SanitizeHeader(s, MaxSubjectLen)
}

// SanitizeText is the one sanitiser for feed text that a person is shown:
// the fields of both mail parts, mail headers, and what `once`, `status` and
// `explain` print on a terminal. It
//
//   - removes bidi controls (U+202A–202E, U+2066–2069, U+200E, U+200F,
//     U+061C), which reorder what is displayed around them, so an author
//     "Mr \u202e25:11 8202 naJ 1 noM" cannot show a forged date;
//   - turns every other control character — C0 and C1, so NUL, ESC, BEL,
//     TAB, CR and LF too — U+2028, U+2029 and invalid UTF-8 into spaces, so
//     nothing can start a header, a line or a terminal escape sequence;
//   - folds runs of white space into one space and trims the ends;
//   - with max > 0, cuts the result to max characters, the last being "…".
//
// Other characters, look-alike letters and zero-width ones included, are
// left as the post wrote them: the reader sees the evidence as it was.
func SanitizeText(s string, max int) string {
	s = strings.Join(strings.Fields(cleanText(s)), " ")
	if max > 0 && utf8.RuneCountInString(s) > max {
		rs := []rune(s)
		s = strings.TrimSpace(string(rs[:max-1])) + "…"
	}
	return s
}

// SanitizeHeader is SanitizeText; mail headers and older callers use it
// under this name.
func SanitizeHeader(s string, max int) string { return SanitizeText(s, max) }

// isBidiControl reports the characters that change the display order of
// the text around them.
func isBidiControl(r rune) bool {
	switch {
	case r >= '\u202a' && r <= '\u202e', r >= '\u2066' && r <= '\u2069', r == '\u200e', r == '\u200f', r == '\u061c':
		return true
	}
	return false
}

// cleanText applies SanitizeText's character rules without folding or
// trimming space, for pieces of a line (excerpt fragments, whose edge
// spaces separate them from the highlighted words).
func cleanText(s string) string {
	clean := true
	for _, r := range s {
		if r < ' ' || r >= 0x7f && (unicode.IsControl(r) || isBidiControl(r) || r == '\u2028' || r == '\u2029' || r == utf8.RuneError) {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	return strings.Map(func(r rune) rune {
		switch {
		case isBidiControl(r):
			return -1
		case unicode.IsControl(r) || r == '\u2028' || r == '\u2029' || r == utf8.RuneError:
			return ' '
		}
		return r
	}, s)
}

// sanitizeExcerpt cleans each fragment of an excerpt like SanitizeText but
// keeps one space at the edges of plain fragments, which separates them
// from the highlighted words; a fragment left empty is dropped.
func sanitizeExcerpt(frags []rules.Fragment) []rules.Fragment {
	out := make([]rules.Fragment, 0, len(frags))
	for _, f := range frags {
		t := f.Text
		if c := cleanText(t); c != t {
			t = foldSpace(c)
		}
		if f.Hit {
			t = strings.TrimSpace(t)
		}
		if t != "" {
			out = append(out, rules.Fragment{Text: t, Hit: f.Hit})
		}
	}
	return out
}

// foldSpace folds each run of white space in s into one space, keeping the
// runs at its ends.
func foldSpace(s string) string {
	var b strings.Builder
	space := false
	for _, r := range s {
		if unicode.IsSpace(r) {
			space = true
			continue
		}
		if space {
			b.WriteByte(' ')
			space = false
		}
		b.WriteRune(r)
	}
	if space {
		b.WriteByte(' ')
	}
	return b.String()
}

// safeLink keeps only http(s) links, so a javascript: or data: URL from a
// feed never becomes clickable. The result is printable ASCII: url.Parse
// refuses ASCII control characters, and every byte String leaves outside
// ASCII (the query keeps them) is percent-encoded, so no bidi control or
// line separator reaches the text part through a link.
func safeLink(raw string) string {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return ""
	}
	s := u.String()
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf || s[i] <= ' ' || s[i] == 0x7f {
			return percentEncodeRest(s, i)
		}
	}
	return s
}

// percentEncodeRest percent-encodes the bytes of s from i on that are not
// printable ASCII.
func percentEncodeRest(s string, i int) string {
	const hex = "0123456789ABCDEF"
	b := []byte(s[:i])
	for ; i < len(s); i++ {
		if c := s[i]; c >= utf8.RuneSelf || c <= ' ' || c == 0x7f {
			b = append(b, '%', hex[c>>4], hex[c&15])
			continue
		}
		b = append(b, s[i])
	}
	return string(b)
}
