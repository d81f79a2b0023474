package alerts

import (
	"context"
	"fmt"
	htmltemplate "html/template"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/schoolwatch/schoolwatch/guidance"
	"github.com/schoolwatch/schoolwatch/mail"
	"github.com/schoolwatch/schoolwatch/rules"
	"github.com/schoolwatch/schoolwatch/store"
)

// Records is what a mail looks up in the store besides its findings: the
// evidence kept for its posts, and the first mail already sent to the
// recipient about each, to thread a follow-up under. *store.Store
// implements it.
type Records interface {
	EvidenceFor(ctx context.Context, itemKeys []string) (map[string]store.Evidence, error)
	FirstMails(ctx context.Context, recipient string, itemKeys []string) (map[string]string, error)
}

// Statuses is implemented by Records that know what leaders did about
// earlier alerts (*store.Store does): a later mail about the same post
// shows it ("acknowledged by head@example.org at 07:42").
type Statuses interface {
	StatusOf(ctx context.Context, schoolID, itemKey string) (store.Incident, bool, error)
}

// Renderer renders groups of alerts into complete mails.
type Renderer struct {
	Letterhead
	Pack *guidance.Pack
	// Records, if set, gives each post its evidence record as kept in the
	// store and threads follow-ups; without it a record is made from the
	// alert's own copy of the post and nothing is threaded.
	Records Records
	// Retention is how long the store keeps evidence records, for the
	// mail to say; zero says nothing.
	Retention time.Duration
	// ActionLinks, if set, gives each post in a mail its signed action
	// links (Acknowledge, Not relevant, Mute this thread for 7 days) for
	// the recipient; nil or an empty result shows none.
	ActionLinks func(recipient, schoolID, itemKey string, now time.Time) []ActionLink
}

// ActionLink is one link a leader can follow to act on an alert.
type ActionLink struct {
	Text string
	URL  string
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

// MaxEvidenceAttached is how many posts' evidence records one mail
// attaches: the most severe first. A mail about more posts (a flood) says
// where the others are kept.
const MaxEvidenceAttached = 20

// digestEvidenceFile is the one attachment holding a digest's records.
const digestEvidenceFile = "evidence.txt"

// firstSteps is the section every alert carries: "Before you respond".
const firstSteps = "first-steps"

// noAuthorLetter are the categories whose posts must never get a letter
// addressed to their author (the invitation to meet, the removal
// request): the police, the LADO or the DSL decide whether and how the
// author is approached.
var noAuthorLetter = []rules.Category{"threat", "allegation", "safeguarding", "sexual-images", "bomb-threats", "hate-abuse", "doxxing", "self-harm-and-suicide"}

// staffLetters are the letters written to a member of staff, not to the
// post's author; every other letter is to the author.
var staffLetters = []string{"staff-note"}

type entryView struct {
	Severity, Sev, Label, School, Title, Source, Author, When, Link, Domain, Why, Colour string
	// NoOpen is set for a post that may show a sexual image of a child:
	// its address is shown, not linked.
	NoOpen bool
	// Hint is what to do before opening the post (guidance.EvidenceHint).
	Hint string
	// Record is the attached evidence record's file name, SHA-256 and
	// item key.
	RecordFile, RecordSHA, Key string
	// Advice are the sections below that fit the post.
	Advice  []sectionRef
	Excerpt []rules.Fragment
	// Actions are the signed action links of the post for the recipient.
	Actions []actionLinkView
	// Status is what a leader already did about the post, if anything.
	Status string
}

type actionLinkView struct {
	Text string
	URL  htmltemplate.URL
}

type sectionRef struct{ ID, Title string }

// actionView is one block of "In the next hour": the next_hour lines of
// a section, for the posts whose most severe finding it fits.
type actionView struct {
	Severity, Sev, Label, Title, Colour string
	More                                int // further posts it covers
	Lines                               []string
	Possibly                            bool
}

type sectionView struct {
	ID, Title, Text string
	HTML            htmltemplate.HTML
}

type letterView struct {
	File, Title, WhenNotToSend string
}

type relatedView struct{ Title, Summary string }

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
	// ActionsTitle heads Actions: "In the next hour", or for a digest
	// "What to do first".
	ActionsTitle string
	Actions      []actionView
	Entries      []entryView
	// Sections are the situations' own sections, FirstSteps "Before you
	// respond": each without its "Policies to check", which are gathered
	// in Policies, last.
	Sections   []sectionView
	Letters    []letterView
	Related    []relatedView
	FirstSteps *sectionView
	Contacts   []contactView
	Policies   *sectionView
	// Retention says how long the evidence records are kept ("" unknown).
	Retention string
	// FollowUp is set when the mail follows an earlier one about a post.
	FollowUp bool
	// Suppressed are the alerts mutes held back, in a digest.
	Suppressed []suppressedView
}

type suppressedView struct{ School, Title, MutedBy, When string }

// Render renders the outbox message for a group, dated now.
func (r *Renderer) Render(g *Group, now time.Time) (store.Message, error) {
	return r.RenderContext(context.Background(), g, now)
}

// RenderContext is Render with the context of its store look-ups.
func (r *Renderer) RenderContext(ctx context.Context, g *Group, now time.Time) (store.Message, error) {
	d, err := r.draft(ctx, g, now)
	if err != nil {
		return store.Message{}, err
	}
	return r.compose(d, now)
}

// draft is the mail for g: its key, recipient, subject, both bodies' data,
// its attachments and the mails it follows.
func (r *Renderer) draft(ctx context.Context, g *Group, now time.Time) (draft, error) {
	d := mailData{Kind: string(g.Kind), Recipient: g.Recipient, ActionsTitle: "In the next hour"}
	if g.Kind == mail.KindDigest {
		d.ActionsTitle = "What to do first"
	}
	if len(g.Entries) > 0 {
		d.School = g.Entries[0].SchoolName
	}
	for _, x := range g.suppressed {
		d.Suppressed = append(d.Suppressed, suppressedView{
			School: SanitizeText(x.SchoolName, 0), Title: SanitizeText(x.Title, 80), MutedBy: SanitizeText(x.MutedBy, 0),
			When: x.Created.In(r.location()).Format("Mon 2 Jan 15:04"),
		})
	}
	if r.Retention > 0 {
		d.Retention = retentionText(r.Retention)
	}
	keys := make([]string, len(g.Entries))
	for i, e := range g.Entries {
		keys[i] = e.ItemKey
	}
	var kept map[string]store.Evidence
	var firsts map[string]string
	if r.Records != nil && len(keys) > 0 {
		var err error
		if kept, err = r.Records.EvidenceFor(ctx, keys); err != nil {
			return draft{}, fmt.Errorf("render: %w", err)
		}
		if g.Kind == mail.KindAlert {
			if firsts, err = r.Records.FirstMails(ctx, g.Recipient, keys); err != nil {
				return draft{}, fmt.Errorf("render: %w", err)
			}
		}
	}

	// The situations' sections in the order of the entries (most severe
	// first), then "Before you respond".
	// A finding of the learned model on a post a keyword rule also found
	// adds its section's summary (under "Also referred to above"), not
	// the whole section: the rule's reading leads.
	var sectionIDs, modelOnly []string
	for _, e := range g.Entries {
		for _, a := range e.Rules {
			if a.Guidance == "" || a.Guidance == firstSteps || slices.Contains(sectionIDs, a.Guidance) {
				continue
			}
			if _, ok := r.Pack.Section(a.Guidance); !ok {
				continue
			}
			if strings.HasPrefix(a.RuleID, rules.PossiblyPrefix) && a.RuleID != e.RuleID {
				modelOnly = append(modelOnly, a.Guidance)
				continue
			}
			sectionIDs = append(sectionIDs, a.Guidance)
		}
	}
	modelOnly = slices.DeleteFunc(modelOnly, func(id string) bool { return slices.Contains(sectionIDs, id) })
	inMail := append(slices.Clone(sectionIDs), firstSteps)

	out := draft{key: g.key, kind: g.Kind, to: g.Recipient, recipient: g.Recipient}
	var letters []string
	letterPost := map[string]Entry{} // the post each letter is about
	for i, e := range g.Entries {
		ev, ok := kept[e.ItemKey]
		partial := !ok
		if partial {
			ev = evidenceFromAlert(e.Alert)
		} else if ev.ItemKey == "" {
			ev.ItemKey = e.ItemKey
		}
		sum := ev.SHA256
		if sum == "" {
			sum = store.ContentSHA256(ev.Content())
		}
		v := r.entry(e, inMail)
		v.RecordSHA, v.Key = sum, SanitizeText(e.ItemKey, 0)
		if st, ok := r.Records.(Statuses); ok {
			in, found, err := st.StatusOf(ctx, e.SchoolID, e.ItemKey)
			if err != nil {
				return draft{}, err
			}
			if found {
				v.Status = statusLine(in, r.location())
			}
		}
		if r.ActionLinks != nil {
			for _, l := range r.ActionLinks(g.Recipient, e.SchoolID, e.ItemKey, now) {
				// The daemon builds these from its own public_url and a
				// base64url token: no feed content reaches them.
				v.Actions = append(v.Actions, actionLinkView{Text: l.Text, URL: htmltemplate.URL(l.URL)})
			}
		}
		switch {
		case i >= MaxEvidenceAttached:
			// A flood of posts: the mail stays a size a phone and a mail
			// server take; the store keeps every record.
		case g.Kind == mail.KindAlert:
			v.RecordFile = evidenceFile(sum)
			out.attachments = appendAttachment(out.attachments, mail.Attachment{Name: v.RecordFile, Data: []byte(evidenceRecord(ev, r.location(), partial))})
		default:
			// A digest can carry many posts: one file holds their records.
			v.RecordFile = digestEvidenceFile
			out.digestEvidence = append(out.digestEvidence, evidenceRecord(ev, r.location(), partial))
		}
		d.Entries = append(d.Entries, v)
		if e.Severity == rules.Critical {
			out.urgent = true
		}
		if k := firsts[e.ItemKey]; k != "" {
			id := mail.MessageID(k, r.Host)
			if !slices.Contains(out.references, id) {
				out.references = append(out.references, id)
			}
		}
		for _, id := range appendLetters(nil, r.Pack, e) {
			if !slices.Contains(letters, id) {
				letters = append(letters, id)
				letterPost[id] = e
			}
		}
	}
	if len(out.digestEvidence) > 0 {
		out.attachments = append(out.attachments, mail.Attachment{Name: digestEvidenceFile, Data: []byte(strings.Join(out.digestEvidence, "\n\n"))})
	}
	if len(out.references) > 0 {
		out.inReplyTo = out.references[0]
		d.FollowUp = true
	}
	d.Actions = r.actions(g)
	d.Subject = r.subject(g)

	seenContact := map[string]bool{}
	var shown []guidance.Contact
	var policies []string
	addContacts := func(s *guidance.Section) {
		for _, c := range r.Pack.ContactsFor(s) {
			if seenContact[c.ID+"\x00"+c.Name] {
				continue
			}
			seenContact[c.ID+"\x00"+c.Name] = true
			cv := contactView{Contact: c}
			if !c.Verified.IsZero() {
				cv.Verified = c.Verified.Format("2 January 2006")
			}
			d.Contacts = append(d.Contacts, cv)
			shown = append(shown, c)
		}
	}
	view := func(s *guidance.Section) sectionView {
		body, items := splitPolicies(s.Markdown)
		for _, it := range items {
			if !slices.ContainsFunc(policies, func(p string) bool { return strings.EqualFold(p, it) }) {
				policies = append(policies, it)
			}
		}
		part := &guidance.Section{Markdown: body}
		return sectionView{ID: s.ID, Title: s.Title, Text: part.Text(), HTML: part.HTML()}
	}
	relatedSeen := map[string]bool{}
	var relatedIDs []string
	addRelated := func(s *guidance.Section) {
		for _, o := range r.Pack.Related(s) {
			if slices.Contains(inMail, o.ID) || relatedSeen[o.ID] {
				continue
			}
			relatedSeen[o.ID] = true
			d.Related = append(d.Related, relatedView{Title: o.Title, Summary: o.Summary})
			relatedIDs = append(relatedIDs, o.ID)
		}
	}
	for _, id := range sectionIDs {
		s, _ := r.Pack.Section(id)
		d.Sections = append(d.Sections, view(s))
		addContacts(s)
		addRelated(s)
	}
	for _, id := range modelOnly {
		if s, ok := r.Pack.Section(id); ok && !relatedSeen[id] {
			relatedSeen[id] = true
			d.Related = append(d.Related, relatedView{Title: s.Title, Summary: s.Summary})
			relatedIDs = append(relatedIDs, id)
		}
	}
	if s, ok := r.Pack.Section(firstSteps); ok {
		v := view(s)
		d.FirstSteps = &v
		addContacts(s)
		addRelated(s)
	}
	// References to other sections become links: to the section when the
	// mail has it, to its summary under "Also referred to above" otherwise.
	for i := range d.Sections {
		d.Sections[i].HTML = linkSections(d.Sections[i].HTML, r.Pack, inMail, relatedIDs)
	}
	if d.FirstSteps != nil {
		d.FirstSteps.HTML = linkSections(d.FirstSteps.HTML, r.Pack, inMail, relatedIDs)
	}
	if len(policies) > 0 {
		part := &guidance.Section{Markdown: "- " + strings.Join(policies, "\n- ") + "\n"}
		d.Policies = &sectionView{ID: "policies", Title: "Policies to check", Text: part.Text(), HTML: part.HTML()}
	}
	// The guidance package owns the wording of the area caveat, so the
	// alert, the digest and `schoolwatch guidance` all say the same thing.
	d.AreaNote = guidance.AreaNote(shown)

	for _, id := range letters {
		l, text, err := r.letter(id, letterPost[id], now)
		if err != nil {
			return draft{}, err
		}
		file := "letter-" + id + ".txt"
		d.Letters = append(d.Letters, letterView{File: file, Title: l.Title, WhenNotToSend: l.WhenNotToSend})
		out.attachments = appendAttachment(out.attachments, mail.Attachment{Name: file, Data: []byte(text)})
	}

	out.subject, out.body, out.data = d.Subject, alertMail, d
	return out, nil
}

func appendAttachment(as []mail.Attachment, a mail.Attachment) []mail.Attachment {
	if slices.ContainsFunc(as, func(b mail.Attachment) bool { return b.Name == a.Name }) {
		return as
	}
	return append(as, a)
}

// appendLetters adds the letters the sections of e's findings offer: the
// one that fits the situation (the invitation to meet for a complaint, the
// note to staff for abuse aimed at them). A letter to the post's author
// is left out when the post also raised a finding whose guidance says
// never to contact the author.
func appendLetters(ids []string, p *guidance.Pack, e Entry) []string {
	toAuthorOK := !slices.ContainsFunc(e.Rules, func(a Alert) bool { return slices.Contains(noAuthorLetter, a.Category) })
	for _, a := range e.Rules {
		s, ok := p.Section(a.Guidance)
		if !ok {
			continue
		}
		for _, l := range p.LettersFor(s) {
			if slices.Contains(ids, l.ID) || (!toAuthorOK && !slices.Contains(staffLetters, l.ID)) {
				continue
			}
			ids = append(ids, l.ID)
		}
	}
	return ids
}

// letter fills in a template letter for the school and the post of e.
func (r *Renderer) letter(id string, e Entry, now time.Time) (guidance.Letter, string, error) {
	var meta guidance.Letter
	for _, l := range r.Pack.Letters() {
		if l.ID == id {
			meta = l
		}
	}
	ld := guidance.LetterData{Date: now.In(r.location()).Format("2 January 2006")}
	ld.School = SanitizeText(e.SchoolName, 0)
	ld.Platform = SanitizeText(e.FeedName, 0)
	ld.PostURL = safeLink(e.Link)
	if e.Dated {
		ld.PostDate = e.Published.In(r.location()).Format("2 January 2006")
	}
	text, err := r.Pack.Letter(id, ld)
	if err != nil {
		return meta, "", fmt.Errorf("render: %w", err)
	}
	return meta, text, nil
}

// evidenceFromAlert is the record of a post whose evidence the store did
// not keep: its title and the excerpt the alert carries.
func evidenceFromAlert(a Alert) store.Evidence {
	var ex strings.Builder
	for _, f := range a.Excerpt {
		ex.WriteString(f.Text)
	}
	return store.Evidence{
		ItemKey: a.ItemKey, FeedID: a.FeedID, FeedName: a.FeedName, Title: a.Title, Text: ex.String(),
		Author: a.Author, Link: a.Link, Published: a.Published, Dated: a.Dated,
	}
}

// actions are the "in the next hour" blocks: for each post, the next_hour
// lines of the section of its most severe finding (first-steps' when that
// section has none), one block per section, in the order of the posts.
// Mentions carry no actions.
func (r *Renderer) actions(g *Group) []actionView {
	var out []actionView
	var ids []string
	for _, e := range g.Entries {
		if e.Category == rules.Mention || e.Severity == rules.Info {
			continue
		}
		s, ok := r.Pack.Section(e.Guidance)
		if !ok || len(s.NextHour) == 0 {
			s, ok = r.Pack.Section(firstSteps)
		}
		if !ok || len(s.NextHour) == 0 {
			continue
		}
		if i := slices.Index(ids, s.ID); i >= 0 {
			out[i].More++
			continue
		}
		ids = append(ids, s.ID)
		out = append(out, actionView{
			Severity: strings.ToUpper(string(e.Severity)), Sev: sevName(e.Severity), Label: label(e.Category),
			Title: SanitizeText(e.Title, 80), Colour: colour(e.Severity), Lines: s.NextHour,
			Possibly: strings.HasPrefix(e.RuleID, rules.PossiblyPrefix),
		})
	}
	return out
}

// statusLine says what a leader did about a post: "Acknowledged by
// head@example.org at Mon 30 Nov 07:42: rang the police".
func statusLine(in store.Incident, loc *time.Location) string {
	s := strings.ToUpper(in.Status[:1]) + in.Status[1:]
	if in.Status == store.StatusNotRelevant {
		s = "Marked not relevant"
	}
	s += " by " + SanitizeText(in.ActedBy, 0) + " at " + in.ActedAt.In(loc).Format("Mon 2 Jan 15:04")
	if in.Note != "" {
		s += ": " + SanitizeText(in.Note, 200)
	}
	return s
}

func (r *Renderer) entry(e Entry, inMail []string) entryView {
	v := entryView{
		Severity: strings.ToUpper(string(e.Severity)),
		Sev:      sevName(e.Severity),
		Label:    label(e.Category),
		School:   e.SchoolName,
		Title:    SanitizeText(e.Title, 0),
		Source:   SanitizeText(e.FeedName, 0),
		Author:   SanitizeText(e.Author, 0),
		Link:     safeLink(e.Link),
		Excerpt:  sanitizeExcerpt(e.Excerpt),
		Colour:   colour(e.Severity),
		Hint:     guidance.EvidenceHint(string(e.Category)),
		Why:      why(e),
	}
	if v.Link != "" {
		if u, err := url.Parse(v.Link); err == nil {
			v.Domain = SanitizeText(u.Hostname(), 0)
		}
	}
	// A post that may show a sexual image: the hint of that finding comes
	// first, whichever finding is the most severe.
	for _, a := range e.Rules {
		if a.Category == "sexual-images" {
			v.Hint = guidance.EvidenceHint(string(a.Category))
			v.NoOpen = true
		}
	}
	v.When = e.Published.In(r.location()).Format("Mon 2 Jan 2006 15:04 MST")
	if !e.Dated {
		v.When += " (first seen; the post gave no date)"
	}
	for _, a := range e.Rules {
		if !slices.Contains(inMail, a.Guidance) || slices.ContainsFunc(v.Advice, func(s sectionRef) bool { return s.ID == a.Guidance }) {
			continue
		}
		if s, ok := r.Pack.Section(a.Guidance); ok {
			v.Advice = append(v.Advice, sectionRef{ID: s.ID, Title: s.Title})
		}
	}
	if s, ok := r.Pack.Section(firstSteps); ok && !slices.ContainsFunc(v.Advice, func(s sectionRef) bool { return s.ID == firstSteps }) {
		v.Advice = append(v.Advice, sectionRef{ID: s.ID, Title: s.Title})
	}
	return v
}

func colour(s rules.Severity) string {
	if c := colours[s]; c != "" {
		return c
	}
	return colours[rules.Normal]
}

// sevName names a severity in the style sheet's classes (sw-sev-critical
// colours text, sw-bar-critical a card's bar).
func sevName(s rules.Severity) string {
	switch s {
	case rules.Critical, rules.High, rules.Normal, rules.Low, rules.Info:
		return string(s)
	}
	return string(rules.Normal)
}

// retentionText is a retention period in words: "90 days".
func retentionText(d time.Duration) string {
	days := int(d.Round(24*time.Hour) / (24 * time.Hour))
	switch {
	case days >= 2:
		return fmt.Sprintf("%d days", days)
	case d >= 2*time.Hour:
		return fmt.Sprintf("%d hours", int(d/time.Hour))
	}
	return d.String()
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

// splitPolicies splits a section's Markdown into its body without the
// "Policies to check" heading and the items of that list, each on one line.
func splitPolicies(md string) (body string, items []string) {
	const heading = "## Policies to check"
	i := strings.Index(md, "\n"+heading)
	if i < 0 {
		if !strings.HasPrefix(md, heading) {
			return md, nil
		}
		i = -1
	}
	rest := md[i+1+len(heading):]
	body = md[:max(i, 0)]
	if j := strings.Index(rest, "\n## "); j >= 0 {
		body += rest[j:]
		rest = rest[:j]
	}
	for _, ln := range strings.Split(rest, "\n") {
		t := strings.TrimSpace(ln)
		switch {
		case t == "":
		case strings.HasPrefix(t, "- ") || strings.HasPrefix(t, "* "):
			items = append(items, strings.TrimSpace(t[2:]))
		case len(items) > 0:
			items[len(items)-1] += " " + t
		default:
			items = append(items, t)
		}
	}
	return strings.TrimRight(body, "\n") + "\n", items
}

// emphasis is an <em> element with text only, as the guidance renders a
// reference to another section.
var emphasis = regexp.MustCompile(`<em>([^<]*)</em>`)

// linkSections turns a section's references to other sections ("see
// *Before you respond*", rendered as <em>) into links: to the section for
// those in the mail (inMail), to the "Also referred to above" list for
// those summarised there (related). The HTML is the pack's own, rendered
// by guidance; no feed text is in it.
func linkSections(h htmltemplate.HTML, p *guidance.Pack, inMail, related []string) htmltemplate.HTML {
	anchors := map[string]string{} // escaped title, one space between words -> anchor
	add := func(ids []string, anchor func(string) string) {
		for _, id := range ids {
			if sec, ok := p.Section(id); ok {
				anchors[strings.Join(strings.Fields(htmltemplate.HTMLEscapeString(sec.Title)), " ")] = anchor(id)
			}
		}
	}
	add(related, func(string) string { return "sw-related" })
	add(inMail, func(id string) string { return "sw-" + id })
	return htmltemplate.HTML(emphasis.ReplaceAllStringFunc(string(h), func(em string) string {
		// The title may be wrapped over lines in the Markdown.
		title := strings.Join(strings.Fields(em[len("<em>"):len(em)-len("</em>")]), " ")
		if a, ok := anchors[title]; ok {
			return `<a href="#` + a + `" class="sw-link">` + em + `</a>`
		}
		return em
	}))
}
