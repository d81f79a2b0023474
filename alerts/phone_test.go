package alerts

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/schoolwatch/schoolwatch/guidance"
	"github.com/schoolwatch/schoolwatch/mail"
	"github.com/schoolwatch/schoolwatch/rules"
	"github.com/schoolwatch/schoolwatch/store"
	"github.com/schoolwatch/schoolwatch/watchers"
)

// alertOf is a one-rule alert of category c on item key, for school 1.
func alertOf(key string, c rules.Category, sev rules.Severity, section string) Alert {
	return Alert{
		ItemKey: key, FeedID: "forum", FeedName: "Community forum", Title: "Post " + key, Link: "https://forum.example.org/" + key,
		Author: "someone", Published: time.Date(2026, 11, 25, 6, 30, 0, 0, time.UTC), Dated: true,
		SchoolID: "1", SchoolName: "St Mary's CE Primary", RuleID: string(c), Category: c, Severity: sev, Guidance: section,
		Excerpt: []rules.Fragment{{Text: "about "}, {Text: "St Mary's", Hit: true}, {Text: " and more"}},
		Matched: []string{"st marys"}, Names: []string{"St Mary's"}, Says: []string{"some words"},
	}
}

// render renders one mail holding one entry per alert list (an entry's
// alerts are the rules it matched, most severe first).
func render(t *testing.T, r *Renderer, kind mail.Kind, entries ...[]Alert) (store.Message, string, string) {
	t.Helper()
	g := &Group{Recipient: "head@stmarys.example.org", SchoolID: "1", Kind: kind, key: "alert-test"}
	for _, as := range entries {
		g.Entries = append(g.Entries, Entry{Alert: as[0], Rules: as})
	}
	m, err := r.Render(g, time.Date(2026, 11, 25, 7, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	_, text, htm := mailParts(t, m.Raw)
	return m, text, htm
}

// TestNextHourOnTheFirstScreen: the golden critical mail's first action,
// 999, is within the first 20 lines of the text part, and every post's
// next_hour lines come before the posts themselves, in both parts.
func TestNextHourOnTheFirstScreen(t *testing.T) {
	grp := goldenGroup(t)
	m, err := testRenderer().Render(grp, time.Date(2026, 11, 25, 7, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	_, text, htm := mailParts(t, m.Raw)
	lines := strings.Split(text, "\n")
	first := -1
	for i, l := range lines {
		if strings.Contains(l, "Call 999") {
			first = i + 1
			break
		}
	}
	if first < 0 || first > 20 {
		t.Errorf("the first action (Call 999) is on line %d of the text part, want within 20:\n%s", first, strings.Join(lines[:min(30, len(lines))], "\n"))
	}
	pack := guidance.Builtin()
	posts := strings.Index(text, "THE POSTS")
	cards := strings.Index(htm, `class="sw-card`)
	for _, e := range grp.Entries {
		s, _ := pack.Section(e.Guidance)
		for _, l := range s.NextHour {
			if i := strings.Index(text, l[:40]); i < 0 || i > posts {
				t.Errorf("text: next-hour line %q of %s is not before the posts", l, s.ID)
			}
			if i := strings.Index(htm, htmlEscape(l)); i < 0 || i > cards {
				t.Errorf("html: next-hour line %q of %s is not before the posts", l, s.ID)
			}
		}
	}
}

func htmlEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "'", "&#39;", `"`, "&#34;", "<", "&lt;", ">", "&gt;").Replace(s)
}

// TestMailOrder: the situation's own sections, then "Before you respond",
// the contacts and, last, one list of the policies to check, with no
// section keeping its own.
func TestMailOrder(t *testing.T) {
	_, text, htm := render(t, testRenderer(), mail.KindAlert, []Alert{alertOf("a", "threat", rules.Critical, "threats-and-harassment")})
	order := []string{"IN THE NEXT HOUR", "THE POST", "==== Threats, abuse or harassment ====", "==== Before you respond ====", "==== Contacts ====", "==== Policies to check ===="}
	at := -1
	for _, h := range order {
		i := strings.Index(text, h)
		if i <= at {
			t.Errorf("%q is at %d, not after the heading before it (%d)", h, i, at)
		}
		at = i
	}
	if n := strings.Count(text, "Policies to check"); n != 1 {
		t.Errorf("text says \"Policies to check\" %d times, want once (the list at the end)", n)
	}
	for _, p := range []string{"Site security, lockdown and bomb threat procedures", "Your incident log or record-keeping procedure"} {
		if i := strings.Index(text, p); i < at {
			t.Errorf("policy %q is not in the list at the end", p)
		}
	}
	if !(strings.Index(htm, `id="sw-threats-and-harassment"`) < strings.Index(htm, `id="sw-first-steps"`) &&
		strings.Index(htm, `id="sw-first-steps"`) < strings.Index(htm, `id="sw-contacts"`) &&
		strings.Index(htm, `id="sw-contacts"`) < strings.Index(htm, `id="sw-policies"`)) {
		t.Errorf("HTML sections out of order")
	}
}

// TestWhyInPlainWords: "why" quotes the post's own words and names the
// rule, with no query syntax, and says plainly when a finding is the
// learned model's reading.
func TestWhyInPlainWords(t *testing.T) {
	threat := alertOf("a", "threat", rules.Critical, "threats-and-harassment")
	threat.Names, threat.Says = []string{"St Mary's", "Folkestone"}, []string{"going to hurt"}
	if got, want := why(Entry{Alert: threat, Rules: []Alert{threat}}), "It names the school as “St Mary's” and “Folkestone” and says “going to hurt”, which the threat rule looks for."; got != want {
		t.Errorf("why = %q\nwant %q", got, want)
	}
	// A payload from before the post's words were kept: the terms, without
	// escaped quotes or wildcards.
	old := threat
	old.Names, old.Says, old.Matched = nil, nil, []string{"st marys folkestone", `"going to hurt"`, "post*"}
	got := why(Entry{Alert: old, Rules: []Alert{old}})
	if strings.ContainsAny(got, `\*"`) || !strings.Contains(got, "“going to hurt”") || !strings.Contains(got, "threat rule") {
		t.Errorf("why from an old payload = %q", got)
	}
	// The learned model's reading, alone and beside a rule.
	model := alertOf("a", "complaint", rules.Low, "parental-complaints")
	model.RuleID, model.Says = rules.PossiblyPrefix+"complaint", nil
	got = why(Entry{Alert: model, Rules: []Alert{model}})
	if !strings.Contains(got, "No keyword rule matched it") || !strings.Contains(got, "learned model") || !strings.Contains(got, "read the post before acting") || strings.Contains(got, "possibly-") {
		t.Errorf("why of a model finding = %q", got)
	}
	got = why(Entry{Alert: threat, Rules: []Alert{threat, model}})
	if !strings.Contains(got, "threat rule looks for") || !strings.Contains(got, "learned model also") {
		t.Errorf("why of a rule and a model finding = %q", got)
	}
}

// TestRouteKeepsThePostsWords: the router keeps the words of the post, as
// written, that named the school and that the rule looked for.
func TestRouteKeepsThePostsWords(t *testing.T) {
	r := NewRouter(Routes{
		Schools: []School{{ID: "1", Name: "St Mary's", Leaders: []Leader{{Email: "head@x.org", Roles: []string{"head"}}}}},
		Rules:   []Rule{{ID: "threat", Notify: []string{"head"}, Delivery: rules.Immediate, Severity: rules.Critical, Category: "threat", Guidance: "threats-and-harassment"}},
	}, nil)
	it := watchers.Item{Key: "k", FeedID: "f", Title: "Warning", Text: "At ST MARY'S someone is Going To Hurt a teacher"}
	c := it.Content()
	span := func(sub string, k rules.SpanKind, term string) rules.Span {
		i := strings.Index(c, sub)
		return rules.Span{Start: i, End: i + len(sub), Kind: k, Term: term}
	}
	ps := r.Route(it, []rules.Finding{{School: "1", Rule: "threat", Evidence: []rules.Span{
		span("ST MARY'S", rules.SchoolSpan, "st marys"), span("Going To Hurt", rules.RuleSpan, `"going to hurt"`), {Start: 5, End: 999, Kind: rules.RuleSpan},
	}}})
	if len(ps) != 1 {
		t.Fatalf("pending = %d", len(ps))
	}
	a, err := decodeAlert(ps[0].Payload)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(a.Names, "|") != "ST MARY'S" || strings.Join(a.Says, "|") != "Going To Hurt" {
		t.Errorf("names %q, says %q", a.Names, a.Says)
	}
}

// flushOne flushes the grouper and returns the one mail it queued.
func flushOne(t *testing.T, st *store.Store, g *Grouper, now time.Time) store.Message {
	t.Helper()
	before, err := st.Messages(context.Background(), "", 100)
	if err != nil {
		t.Fatal(err)
	}
	if n, err := g.Flush(context.Background(), now, true); err != nil || n != 1 {
		t.Fatalf("flush: %d mails, %v", n, err)
	}
	after, err := st.Messages(context.Background(), "", 100)
	if err != nil || len(after) != len(before)+1 {
		t.Fatalf("outbox: %d then %d, %v", len(before), len(after), err)
	}
	return after[0] // newest first
}

// recordItem records one item with its evidence and the pending rows of
// its alerts, as the intake does.
func recordItem(t *testing.T, st *store.Store, now time.Time, key, content string, ev *store.Evidence, as ...Alert) {
	t.Helper()
	it := store.Item{Key: key, FeedID: "forum", Content: content, Alert: true, Evidence: ev}
	for _, a := range as {
		it.Findings = append(it.Findings, store.Finding{Rule: a.RuleID, School: a.SchoolID})
		it.Pending = append(it.Pending, pendingFor(t, "head@stmarys.example.org", a.SchoolID, a))
	}
	if _, err := st.Record(context.Background(), now, []store.Item{it}); err != nil {
		t.Fatal(err)
	}
}

// TestEvidenceRecordAttached: a mail built from the store carries, per
// post, the evidence record the store kept, whose SHA-256 is that of the
// content it quotes, byte for byte; the record gives the feed response's
// Date and ETag.
func TestEvidenceRecordAttached(t *testing.T) {
	st := openStore(t)
	r := testRenderer()
	r.Records, r.Retention = st, 90*24*time.Hour
	g := &Grouper{Store: st, Renderer: r}
	now := time.Date(2026, 11, 25, 7, 0, 0, 0, time.UTC)
	ev := &store.Evidence{FeedID: "forum", FeedName: "Community forum", Title: "Warning to parents", Author: "anon_22", Link: "https://forum.example.org/1",
		Text:      "Someone says they are going to hurt a teacher.\r\n----- end of content -----\nCafé \u202eevil",
		Published: now.Add(-time.Hour), Dated: true, ResponseDate: "Wed, 25 Nov 2026 06:59:58 GMT", ResponseETag: `W/"abc"`}
	a := alertOf("g:forum:1", "threat", rules.Critical, "threats-and-harassment")
	recordItem(t, st, now, "g:forum:1", "c1", ev, a)
	m := flushOne(t, st, g, now)

	att := mailAttachments(t, m.Raw)
	var record string
	var file string
	for name, b := range att {
		if strings.HasPrefix(name, "evidence-") {
			file, record = name, string(b)
		}
	}
	if record == "" {
		t.Fatalf("no evidence record attached; attachments %v", keysOf(att))
	}
	content := ev.Title + "\n\n" + ev.Text
	sum := sha256.Sum256([]byte(content))
	want := hex.EncodeToString(sum[:])
	got, quoted := parseRecord(t, record)
	if got != want || quoted != content {
		t.Errorf("record: SHA-256 %s over %q, want %s over the exact content", got, quoted, want)
	}
	if file != "evidence-"+want[:12]+".txt" {
		t.Errorf("file name %q", file)
	}
	for _, s := range []string{"Item key:       g:forum:1", "Response Date:  Wed, 25 Nov 2026 06:59:58 GMT", `Response ETag:  W/"abc"`, "Author:         anon_22", "Feed:           Community forum (forum)", "First seen:     Wed 25 Nov 2026 07:00:00 UTC"} {
		if !strings.Contains(record, s) {
			t.Errorf("record lacks %q:\n%s", s, record)
		}
	}
	_, text, _ := mailParts(t, m.Raw)
	if !strings.Contains(text, file) || !strings.Contains(text, "schoolwatch keeps a copy for 90 days") {
		t.Errorf("the text part does not name the record %s or its retention", file)
	}
	// The same record, printed for the operator.
	kept, err := st.Evidence(context.Background(), "g:forum:1")
	if err != nil {
		t.Fatal(err)
	}
	if EvidenceRecord(kept, time.UTC) != record {
		t.Errorf("EvidenceRecord differs from the attachment")
	}
}

func keysOf(m map[string][]byte) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

var recordLength = regexp.MustCompile(`The SHA-256 is of the (\d+) bytes`)

// parseRecord returns a record's SHA-256 line and the content it quotes,
// taken by its stated length, and checks the content's digest.
func parseRecord(t *testing.T, rec string) (sum, content string) {
	t.Helper()
	m := recordLength.FindStringSubmatch(rec)
	if m == nil {
		t.Fatalf("record has no length line:\n%s", rec)
	}
	n, _ := strconv.Atoi(m[1])
	const marker = "----- content -----\n"
	i := strings.Index(rec, marker)
	if i < 0 || i+len(marker)+n > len(rec) {
		t.Fatalf("record has no content marker or is short:\n%s", rec)
	}
	content = rec[i+len(marker) : i+len(marker)+n]
	if !strings.HasPrefix(rec[i+len(marker)+n:], "\n----- end of content -----\n") {
		t.Errorf("the content is not followed by the end marker")
	}
	for _, l := range strings.Split(rec, "\n") {
		if v, ok := strings.CutPrefix(l, "SHA-256:"); ok {
			sum = strings.TrimSpace(v)
			break
		}
	}
	d := sha256.Sum256([]byte(content))
	if hex.EncodeToString(d[:]) != sum {
		t.Errorf("record's SHA-256 %s does not match its content", sum)
	}
	return sum, content
}

// TestEvidenceWithoutStore: without a store record (a finding queued by an
// older version) the mail still carries a record, made from the alert's
// title and excerpt and saying so; a digest carries one file for all.
func TestEvidenceWithoutStore(t *testing.T) {
	m, _, _ := render(t, testRenderer(), mail.KindAlert, []Alert{alertOf("a", "threat", rules.Critical, "threats-and-harassment")})
	att := mailAttachments(t, m.Raw)
	if len(att) != 1 {
		t.Fatalf("attachments %v, want one record", keysOf(att))
	}
	for _, b := range att {
		_, content := parseRecord(t, string(b))
		if content != "Post a\n\nabout St Mary's and more" || !strings.Contains(string(b), "not kept") {
			t.Errorf("record from the alert:\n%s", b)
		}
	}
	m, _, _ = render(t, testRenderer(), mail.KindDigest,
		[]Alert{alertOf("a", "media", rules.Normal, "media-enquiries")}, []Alert{alertOf("b", "complaint", rules.Normal, "parental-complaints")})
	att = mailAttachments(t, m.Raw)
	if b, ok := att["evidence.txt"]; !ok || strings.Count(string(b), "schoolwatch evidence record") != 2 {
		t.Errorf("digest attachments %v: want one evidence.txt with both records", keysOf(att))
	}
}

// TestUrgentAndThreaded: a critical alert is marked high priority and an
// ordinary one is not; a later mail about an edit of a post already mailed
// to the recipient follows the first mail (In-Reply-To and References).
func TestUrgentAndThreaded(t *testing.T) {
	st := openStore(t)
	r := testRenderer()
	r.Records = st
	g := &Grouper{Store: st, Renderer: r}
	now := time.Date(2026, 11, 25, 7, 0, 0, 0, time.UTC)
	threat := alertOf("g:forum:1", "threat", rules.Critical, "threats-and-harassment")
	recordItem(t, st, now, "g:forum:1", "c1", &store.Evidence{FeedID: "forum", Title: "t1"}, threat)
	first := flushOne(t, st, g, now)
	h, _, _ := mailParts(t, first.Raw)
	if h.Get("Importance") != "high" || h.Get("X-Priority") != "1" || h.Get("In-Reply-To") != "" {
		t.Errorf("critical first mail: Importance %q, X-Priority %q, In-Reply-To %q", h.Get("Importance"), h.Get("X-Priority"), h.Get("In-Reply-To"))
	}
	// The post is edited and now also raises a complaint.
	complaint := alertOf("g:forum:1", "complaint", rules.Normal, "parental-complaints")
	complaint.ItemKey = "g:forum:1#c2"
	recordItem(t, st, now.Add(time.Hour), "g:forum:1", "c2", &store.Evidence{FeedID: "forum", Title: "t2"}, threat, complaint)
	second := flushOne(t, st, g, now.Add(time.Hour))
	h, text, _ := mailParts(t, second.Raw)
	id := mail.MessageID(first.Key, "test.invalid")
	if h.Get("In-Reply-To") != id || h.Get("References") != id {
		t.Errorf("follow-up: In-Reply-To %q, References %q, want %q", h.Get("In-Reply-To"), h.Get("References"), id)
	}
	if h.Get("Importance") != "" || h.Get("X-Priority") != "" {
		t.Errorf("a normal mail is marked urgent")
	}
	if !strings.Contains(text, "follows an earlier mail") {
		t.Errorf("the follow-up does not say so")
	}
}

// TestLettersAttached: the letter that fits travels as an attachment with
// its "when not to send" note, shown in the mail too; a letter to the
// author is never attached when the post is also a threat, an allegation
// or the like; no letter for a threat alone.
func TestLettersAttached(t *testing.T) {
	pack := guidance.Builtin()
	notes := map[string]string{}
	for _, l := range pack.Letters() {
		notes[l.ID] = l.WhenNotToSend
	}
	tests := []struct {
		name  string
		rules []Alert
		want  []string
	}{
		{"complaint", []Alert{alertOf("a", "complaint", rules.Normal, "parental-complaints")}, []string{"invite-to-meet"}},
		{"staff abuse", []Alert{alertOf("a", "staff-abuse", rules.High, "staff-wellbeing")}, []string{"staff-note"}},
		{"complaint that is an allegation", []Alert{alertOf("a", "allegation", rules.High, "allegations-against-staff"), alertOf("a", "complaint", rules.Normal, "parental-complaints")}, nil},
		{"threat against staff", []Alert{alertOf("a", "threat", rules.Critical, "threats-and-harassment"), alertOf("a", "staff-abuse", rules.High, "staff-wellbeing")}, []string{"staff-note"}},
		{"threat", []Alert{alertOf("a", "threat", rules.Critical, "threats-and-harassment")}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, text, htm := render(t, testRenderer(), mail.KindAlert, tc.rules)
			att := mailAttachments(t, m.Raw)
			var got []string
			for name, b := range att {
				id, ok := strings.CutPrefix(name, "letter-")
				if !ok {
					continue
				}
				id = strings.TrimSuffix(id, ".txt")
				got = append(got, id)
				if !strings.Contains(strings.Join(strings.Fields(string(b)), " "), "When not to send this: "+notes[id]) {
					t.Errorf("%s lacks its when-not-to-send note:\n%s", name, b)
				}
				if !strings.Contains(strings.Join(strings.Fields(text), " "), "When not to send this: "+notes[id]) || !strings.Contains(htm, name) {
					t.Errorf("the mail does not show %s's when-not-to-send note", name)
				}
			}
			if strings.Join(got, ",") != strings.Join(tc.want, ",") {
				t.Errorf("letters %v, want %v", got, tc.want)
			}
		})
	}
}

// TestLeaderMailHasNoCommandsOrSetupNotes: for every category, the mail
// tells a leader nothing to run, and says nothing about configuration; the
// contacts carry their notes; a school with no local LADO configured gets
// the placeholder, not Kent's numbers.
func TestLeaderMailHasNoCommandsOrSetupNotes(t *testing.T) {
	pack := guidance.Builtin().WithContacts(nil)
	r := testRenderer()
	r.Pack = pack
	command := regexp.MustCompile("schoolwatch (guidance|letter|evidence|status|check|once|run|explain|rules)|`|guidance\\.contacts|config")
	for _, c := range rules.Categories {
		a := alertOf("a", c, rules.High, pack.DefaultSection(c))
		_, text, htm := render(t, r, mail.KindAlert, []Alert{a})
		for name, part := range map[string]string{"text": text, "html": htm} {
			if loc := command.FindStringIndex(part); loc != nil {
				t.Errorf("%s: the %s part says %q", c, name, part[max(0, loc[0]-60):min(len(part), loc[1]+20)])
			}
			if strings.Contains(part, "03000 41") {
				t.Errorf("%s: the %s part shows a Kent number to a school with no area", c, name)
			}
		}
	}
	_, text, htm := render(t, r, mail.KindAlert, []Alert{alertOf("a", "allegation", rules.High, "allegations-against-staff")})
	for _, c := range pack.ContactsFor(mustSection(t, pack, "allegations-against-staff")) {
		if c.Notes == "" {
			continue
		}
		note := strings.Join(strings.Fields(c.Notes), " ")
		if !strings.Contains(strings.Join(strings.Fields(text), " "), note) || !strings.Contains(htm, htmlEscape(c.Notes)) {
			t.Errorf("contact %q: its notes are not in both parts", c.Name)
		}
	}
	if !strings.Contains(text, "local authority's LADO") {
		t.Errorf("the allegation mail lacks the local LADO placeholder:\n%s", text)
	}
}

func mustSection(t *testing.T, p *guidance.Pack, id string) *guidance.Section {
	t.Helper()
	s, ok := p.Section(id)
	if !ok {
		t.Fatalf("no section %s", id)
	}
	return s
}

// TestSexualImageHintFirst: for a post that may show a sexual image the
// first thing said about it is not to open, view, screenshot or forward
// it, before its address, and the HTML gives no link to open it.
func TestSexualImageHintFirst(t *testing.T) {
	a := alertOf("a", "sexual-images", rules.Critical, "sexual-images")
	_, text, htm := render(t, testRenderer(), mail.KindAlert, []Alert{a})
	hint := guidance.EvidenceHint("sexual-images")
	if !strings.HasPrefix(hint, "Do not open, view, screenshot") {
		t.Fatalf("the guidance hint changed: %q", hint)
	}
	flat := strings.Join(strings.Fields(text), " ")
	i, j := strings.Index(flat, "Before you open it: "+hint), strings.Index(flat, "Link: "+a.Link)
	if i < 0 || j < 0 || i > j {
		t.Errorf("text: the hint (%d) is not before the link (%d)", i, j)
	}
	if strings.Contains(htm, `href="`+a.Link+`"`) {
		t.Errorf("the HTML links to the post")
	}
	if strings.Contains(flat, "screenshot showing") && strings.Index(flat, "screenshot showing") < j {
		t.Errorf("the text advises a screenshot of the post")
	}
}

// TestHTMLForPhonesAndDarkMode: every HTML mail (alert, heartbeat, operator
// notice) has a viewport, says it supports dark mode and styles it.
func TestHTMLForPhonesAndDarkMode(t *testing.T) {
	_, _, alert := render(t, testRenderer(), mail.KindAlert, []Alert{alertOf("a", "threat", rules.Critical, "threats-and-harassment")})
	_, hb, err := heartbeatMail.execute(map[string]any{"Name": "A Head", "From": "Mon 16 Nov", "To": "Mon 23 Nov 2026 07:00",
		"Schools": []HeartbeatSchool{{Name: "St Mary's", Feeds: 2, Items: 9, Failing: []string{"Kent Gazette"}}}})
	if err != nil {
		t.Fatal(err)
	}
	_, notice, err := noticeMail.execute(map[string]any{"Day": "Mon 23 Nov 2026", "Problems": []NoticeEntry{{FeedID: "f", Name: "Feed"}}, "Recovered": []NoticeEntry{}})
	if err != nil {
		t.Fatal(err)
	}
	for name, h := range map[string]string{"alert": alert, "heartbeat": hb, "notice": notice} {
		for _, want := range []string{
			`<meta name="viewport" content="width=device-width, initial-scale=1">`,
			`<meta name="color-scheme" content="light dark">`,
			"@media (prefers-color-scheme: dark)",
			`<html lang="en">`, `<meta charset="utf-8">`, `class="sw-page"`,
		} {
			if !strings.Contains(h, want) {
				t.Errorf("%s HTML lacks %s", name, want)
			}
		}
	}
}

// TestEvidenceAttachmentsCapped: a mail about a flood of posts attaches the
// records of the first MaxEvidenceAttached (the most severe) and says the
// others are kept, so it stays a size a phone and a mail server take.
func TestEvidenceAttachmentsCapped(t *testing.T) {
	var entries [][]Alert
	for i := range MaxEvidenceAttached + 5 {
		entries = append(entries, []Alert{alertOf("k"+strconv.Itoa(i), "threat", rules.Critical, "threats-and-harassment")})
	}
	m, text, _ := render(t, testRenderer(), mail.KindAlert, entries...)
	if n := len(mailAttachments(t, m.Raw)); n != MaxEvidenceAttached {
		t.Errorf("%d attachments, want %d", n, MaxEvidenceAttached)
	}
	if n := strings.Count(strings.Join(strings.Fields(text), " "), "too many posts in this mail to attach every record"); n != 5 {
		t.Errorf("%d posts say their record is kept, want 5", n)
	}
}

// TestLetterIsAboutItsPost: a letter is filled in with the post that
// raised it, not the first post of the mail.
func TestLetterIsAboutItsPost(t *testing.T) {
	privacy := alertOf("a", "privacy", rules.High, "pupil-images-and-data")
	privacy.FeedName = "Photo site"
	complaint := alertOf("b", "complaint", rules.Normal, "parental-complaints")
	complaint.FeedName = "Parents' forum"
	m, _, _ := render(t, testRenderer(), mail.KindAlert, []Alert{privacy}, []Alert{complaint})
	letter := string(mailAttachments(t, m.Raw)["letter-invite-to-meet.txt"])
	if !strings.Contains(letter, "Parents' forum") || strings.Contains(letter, "Photo site") {
		t.Errorf("the invitation is not about the complaint's post:\n%s", letter)
	}
}
