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
		Title:    e.Title,
		Source:   e.FeedName,
		Author:   e.Author,
		Link:     safeLink(e.Link),
		Excerpt:  e.Excerpt,
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

// SanitizeHeader makes hostile text safe for a mail header: control
// characters (CR and LF above all) become spaces, runs of space fold, and
// the result is cut to max characters.
func SanitizeHeader(s string, max int) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' || r == utf8.RuneError {
			return ' '
		}
		return r
	}, s)
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) > max {
		rs := []rune(s)
		s = strings.TrimSpace(string(rs[:max-1])) + "…"
	}
	return s
}

// safeLink keeps only http(s) links, so a javascript: or data: URL from a
// feed never becomes clickable.
func safeLink(raw string) string {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return ""
	}
	return u.String()
}
