package alerts

import (
	"fmt"
	htmltemplate "html/template"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/schoolwatch/schoolwatch/guidance"
	"github.com/schoolwatch/schoolwatch/mail"
	"github.com/schoolwatch/schoolwatch/rules"
	"github.com/schoolwatch/schoolwatch/store"
)

// Renderer renders groups of alerts into complete mails.
type Renderer struct {
	Letterhead
	Pack *guidance.Pack
}

// Labels are the plain-English names of rule categories in subjects and
// entries: one for every category in rules.Categories.
var Labels = map[rules.Category]string{
	"threat":                "Possible threat",
	"allegation":            "Possible allegation against staff",
	"safeguarding":          "Possible safeguarding concern",
	"complaint":             "Complaint raised online",
	"defamation":            "Possibly defamatory post",
	"privacy":               "Pupil images or personal data posted",
	"media":                 "Media interest",
	"impersonation":         "Fake or impersonating account",
	"staff-abuse":           "Abuse aimed at a member of staff",
	"sexual-images":         "Possible nude or sexual images",
	"hate-abuse":            "Racist or other hate abuse",
	"bomb-threats":          "Possible bomb threat or hoax",
	"doxxing":               "Staff personal details posted",
	"self-harm-and-suicide": "Possible self-harm or suicide concern",
	"pupil-bullying":        "Possible bullying between pupils",
	"scams":                 "Possible scam or fake account",
	"misinformation":        "Rumour or viral scare spreading",
	rules.OtherCategory:     "School mentioned online",
	rules.Mention:           "Your school mentioned",
}

var colours = map[rules.Severity]string{rules.Critical: "#b00020", rules.High: "#c25400", rules.Normal: "#0b57d0", rules.Low: "#5f6368", rules.Info: "#5f6368"}

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

// Render renders the outbox message for a group, dated now.
func (r *Renderer) Render(g *Group, now time.Time) (store.Message, error) {
	return r.compose(r.draft(g), now)
}

// draft is the mail for g: its key, recipient, subject and both bodies'
// data.
func (r *Renderer) draft(g *Group) draft {
	d := mailData{Kind: string(g.Kind), Recipient: g.Recipient}
	if len(g.Entries) > 0 {
		d.School = g.Entries[0].SchoolName
	}
	sectionIDs := []string{"first-steps"}
	for _, e := range g.Entries {
		for _, a := range e.Rules {
			if a.Guidance != "" && !slices.Contains(sectionIDs, a.Guidance) {
				sectionIDs = append(sectionIDs, a.Guidance)
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
	return draft{key: g.key, kind: g.Kind, to: g.Recipient, recipient: g.Recipient, subject: d.Subject, body: alertMail, data: d}
}

func (r *Renderer) entry(e Entry) entryView {
	v := entryView{
		Severity: strings.ToUpper(string(e.Severity)),
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
		v.Colour = colours[rules.Normal]
	}
	v.When = e.Published.In(r.location()).Format("Mon 2 Jan 2006 15:04 MST")
	if !e.Dated {
		v.When += " (first seen; the post gave no date)"
	}
	var why, advice []string
	for _, a := range e.Rules {
		if strings.HasPrefix(a.RuleID, rules.PossiblyPrefix) {
			why = append(why, fmt.Sprintf("possibly: %s (the learned model's reading of the post, not a keyword rule: read the post before acting)", a.Category))
		} else {
			why = append(why, fmt.Sprintf("rule %q (%s) matched %s", a.RuleID, a.Category, quoteTerms(a.Matched)))
		}
		if s, ok := r.Pack.Section(a.Guidance); ok && !slices.Contains(advice, s.Title) {
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

// label is the category's label. Every category of the vocabulary has its
// own (TestLabels); only a payload written by another version can hold
// one outside it, and it is labelled as "other".
func label(c rules.Category) string {
	if l, ok := Labels[c]; ok {
		return l
	}
	return Labels[rules.OtherCategory]
}

func (r *Renderer) subject(g *Group) string {
	if len(g.Entries) == 0 {
		return r.subjectLine(" (empty)")
	}
	top := g.Entries[0]
	var s string
	if g.Kind == mail.KindDigest {
		s = fmt.Sprintf(" Daily digest: %d item", len(g.Entries))
		if len(g.Entries) != 1 {
			s += "s"
		}
	} else {
		s = fmt.Sprintf("[%s] %s — %s", strings.ToUpper(string(top.Severity)), label(top.Category), top.SchoolName)
		if n := len(g.Entries) - 1; n > 0 {
			s += fmt.Sprintf(" (+%d more)", n)
		}
	}
	return r.subjectLine(s)
}
