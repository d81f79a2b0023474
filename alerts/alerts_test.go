package alerts

import (
	"bytes"
	"context"
	"mime"
	netmail "net/mail"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/schoolwatch/schoolwatch/alerts/smtptest"
	"github.com/schoolwatch/schoolwatch/guidance"
	"github.com/schoolwatch/schoolwatch/mail"
	"github.com/schoolwatch/schoolwatch/rules"
	"github.com/schoolwatch/schoolwatch/store"
)

func openStore(t *testing.T) *store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "sw.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// testLetterhead is the letterhead of every test mail.
var testLetterhead = Letterhead{From: "schoolwatch <alerts@example.org>", SubjectPrefix: "[schoolwatch]", Location: time.UTC, Host: "test.invalid"}

// letterheadAt is testLetterhead on clock.
func letterheadAt(clock func() time.Time) Letterhead {
	lh := testLetterhead
	lh.Now = clock
	return lh
}

func testRenderer() *Renderer {
	return &Renderer{Letterhead: testLetterhead, Pack: guidance.Builtin()}
}

// smtpDeliverer returns a deliverer for the test server, plain SMTP.
func smtpDeliverer(t testing.TB, srv *smtptest.Server) mail.Deliverer {
	t.Helper()
	d, err := mail.NewSMTPDeliverer(mail.SMTPOptions{From: "schoolwatch <alerts@example.org>", Host: srv.Host(), Port: srv.Port(), TLS: "none", Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func pendingFor(t testing.TB, recipient, school string, a Alert) store.Pending {
	t.Helper()
	return store.Pending{Recipient: recipient, SchoolID: school, ItemKey: a.ItemKey, RuleID: a.RuleID, Severity: a.Severity.Rank(), Delivery: "immediate", Payload: a.encode()}
}

// addPending records the items of ps as seen, each with its pending rows,
// as the intake does. An item seen before queues nothing.
func addPending(t testing.TB, st *store.Store, now time.Time, ps ...store.Pending) {
	t.Helper()
	var items []store.Item
	index := map[string]int{}
	for _, p := range ps {
		i, ok := index[p.ItemKey]
		if !ok {
			i = len(items)
			index[p.ItemKey] = i
			items = append(items, store.Item{Key: p.ItemKey, FeedID: "news", Alert: true})
		}
		items[i].Pending = append(items[i].Pending, p)
	}
	if _, err := st.RecordItems(context.Background(), now, items); err != nil {
		t.Fatal(err)
	}
}

func hostileAlert() Alert {
	return Alert{
		ItemKey: "item-1", FeedID: "news", FeedName: "Demo Gazette",
		Title:     "<script>alert(1)</script>\r\nBcc: victim@evil.example\r\nSubject: pwned",
		Link:      "javascript:alert(document.cookie)",
		Published: time.Date(2026, 11, 25, 8, 30, 0, 0, time.UTC), Dated: true,
		SchoolID: "1", SchoolName: "St Mary's CE Primary",
		RuleID: "allegation", Category: "allegation", Severity: "high", Guidance: "allegations-against-staff",
		Excerpt: []rules.Fragment{{Text: "a teacher <b>onclick=x</b> "}, {Text: "slapped", Hit: true}, {Text: " a boy"}},
		Matched: []string{"teacher", "slapped"},
	}
}

// parts returns the text/plain and text/html bodies of a delivered
// message: the alternative part of multipart/mixed, beside the attachments.
func parts(t *testing.T, raw []byte) (text, html string) {
	t.Helper()
	m, err := netmail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	if mt, _, err := mime.ParseMediaType(m.Header.Get("Content-Type")); err != nil || mt != "multipart/mixed" {
		t.Fatalf("Content-Type = %q (%v), want multipart/mixed (bodies and attachments)", m.Header.Get("Content-Type"), err)
	}
	_, text, html = mailParts(t, raw)
	if text == "" || html == "" {
		t.Fatalf("missing part: text %d bytes, html %d bytes", len(text), len(html))
	}
	return text, html
}

func TestDeliverOverSMTP(t *testing.T) {
	ctx := context.Background()
	srv := smtptest.Start(t)
	st := openStore(t)
	now := time.Now()
	addPending(t, st, now, pendingFor(t, "dsl@school.example.org", "1", hostileAlert()))
	g := &Grouper{Store: st, Renderer: testRenderer(), GroupWait: time.Minute}
	if n, err := g.Flush(ctx, now, false); err != nil || n != 0 {
		t.Fatalf("flush before group_wait: %d, %v (a high finding must wait)", n, err)
	}
	if n, err := g.Flush(ctx, now.Add(time.Minute), false); err != nil || n != 1 {
		t.Fatalf("flush after group_wait: %d, %v", n, err)
	}
	s := mail.NewSender(st, smtpDeliverer(t, srv), time.Second, time.Minute, nil, nil)
	s.Now = func() time.Time { return now.Add(time.Minute) }
	if sent, err := s.Drain(ctx); err != nil || sent != 1 {
		t.Fatalf("drain: %d, %v", sent, err)
	}
	msgs := srv.Messages()
	if len(msgs) != 1 {
		t.Fatalf("server got %d messages", len(msgs))
	}
	if got := msgs[0].To; len(got) != 1 || got[0] != "dsl@school.example.org" {
		t.Errorf("RCPT TO = %v: the injected Bcc must not add recipients", got)
	}
	if msgs[0].From != "alerts@example.org" {
		t.Errorf("MAIL FROM = %q", msgs[0].From)
	}
	m, err := msgs[0].Parse()
	if err != nil {
		t.Fatal(err)
	}
	if bcc := m.Header.Get("Bcc"); bcc != "" {
		t.Errorf("header injection: Bcc: %q", bcc)
	}
	subj, _ := new(mime.WordDecoder).DecodeHeader(m.Header.Get("Subject"))
	if want := "[schoolwatch][HIGH] Possible allegation against staff — St Mary's CE Primary"; subj != want {
		t.Errorf("Subject = %q, want %q", subj, want)
	}
	if id := m.Header.Get("Message-ID"); !strings.HasPrefix(id, "<alert-") || !strings.HasSuffix(id, "@test.invalid>") {
		t.Errorf("Message-ID = %q", id)
	}
	if m.Header.Get("Date") == "" || m.Header.Get("Auto-Submitted") != "auto-generated" {
		t.Errorf("Date %q, Auto-Submitted %q", m.Header.Get("Date"), m.Header.Get("Auto-Submitted"))
	}
	text, html := parts(t, msgs[0].Data)
	pack := guidance.Builtin()
	for _, id := range []string{"first-steps", "allegations-against-staff"} {
		sec, _ := pack.Section(id)
		if !strings.Contains(text, sec.Title) || !strings.Contains(html, sec.Title) {
			t.Errorf("section %q missing from a part", id)
		}
	}
	if !strings.Contains(text, "**slapped**") {
		t.Errorf("text part lacks the highlighted excerpt:\n%s", text)
	}
	if strings.Contains(html, "<script>") || strings.Contains(html, "<b>onclick") || strings.Contains(html, "javascript:") {
		t.Errorf("feed markup reached the HTML part unescaped")
	}
	if !strings.Contains(html, "&lt;script&gt;") || !strings.Contains(html, "<mark") {
		t.Errorf("HTML part lacks the escaped title or the highlight")
	}
}

func TestSubjectSanitised(t *testing.T) {
	got := SanitizeText("a\r\nBcc: x@y\x00z\t"+strings.Repeat("é", 300), MaxSubjectLen)
	if strings.ContainsAny(got, "\r\n\x00\t") {
		t.Errorf("control characters survive: %q", got)
	}
	if n := len([]rune(got)); n > MaxSubjectLen {
		t.Errorf("subject is %d characters, cap %d", n, MaxSubjectLen)
	}
}

func TestGroupingPerRecipientAndSchool(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	now := time.Now()
	threat := hostileAlert()
	threat.ItemKey, threat.RuleID, threat.Category, threat.Severity, threat.Guidance = "item-2", "threat", "threat", "critical", "threats-and-harassment"
	allegation := hostileAlert()
	second := allegation
	second.RuleID, second.Category, second.Severity = "defamation", "defamation", "normal"
	addPending(t, st, now,
		pendingFor(t, "head@x.org", "1", allegation),
		pendingFor(t, "head@x.org", "1", second), // same item, another rule: same mail, one entry
		pendingFor(t, "head@x.org", "1", threat),
		pendingFor(t, "dsl@x.org", "1", allegation),
	)
	g := &Grouper{Store: st, Renderer: testRenderer(), GroupWait: time.Hour}
	// The head's group holds a critical finding, so it goes now; the DSL's waits.
	if n, err := g.Flush(ctx, now, false); err != nil || n != 1 {
		t.Fatalf("flush = %d, %v; want only the group with the critical finding", n, err)
	}
	if n, err := g.Flush(ctx, now, true); err != nil || n != 1 {
		t.Fatalf("forced flush = %d, %v", n, err)
	}
	msgs, _ := st.Messages(ctx, "", 10)
	if len(msgs) != 2 {
		t.Fatalf("%d mails, want 2", len(msgs))
	}
	for _, m := range msgs {
		switch m.Recipient {
		case "head@x.org":
			if !strings.Contains(m.Subject, "[CRITICAL] Possible threat") || !strings.Contains(m.Subject, "(+1 more)") {
				t.Errorf("head subject = %q", m.Subject)
			}
		case "dsl@x.org":
			if !strings.Contains(m.Subject, "[HIGH]") || strings.Contains(m.Subject, "more") {
				t.Errorf("dsl subject = %q", m.Subject)
			}
		default:
			t.Errorf("mail to %s", m.Recipient)
		}
	}
	// Nothing is pending any more, and the same findings cannot come back.
	if ps, err := st.ListPending(ctx, "immediate"); err != nil || len(ps) != 0 {
		t.Errorf("pending after both mails: %d, %v", len(ps), err)
	}
	addPending(t, st, now, pendingFor(t, "dsl@x.org", "1", allegation))
	if n, _ := g.Flush(ctx, now, true); n != 0 {
		t.Errorf("an item already mailed to the DSL was mailed again")
	}
}
