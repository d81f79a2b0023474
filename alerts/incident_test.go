package alerts

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/schoolwatch/schoolwatch/store"
)

// TestActionLinksAndStatusInMail: with ActionLinks set, each post carries
// the three links as <a> in the HTML part and the same URLs in the text
// part; once a leader has acknowledged the post, a later mail about it (an
// edit, to another recipient at the school) says so, escaped; and the
// grouper records each mailed alert in the incident log.
func TestActionLinksAndStatusInMail(t *testing.T) {
	st := openStore(t)
	ctx := context.Background()
	now := time.Date(2026, 11, 30, 7, 0, 0, 0, time.UTC)
	r := testRenderer()
	r.Records = st
	r.ActionLinks = func(recipient, schoolID, itemKey string, now time.Time) []ActionLink {
		base := "https://sw.example.org/act?t=" + schoolID + "-" + itemKey + "-" + recipient
		return []ActionLink{{"Acknowledge", base + "-ack"}, {"Not relevant", base + "-nr"}, {"Mute this thread for 7 days", base + "-mute"}}
	}
	g := &Grouper{Store: st, Renderer: r}
	a := hostileAlert()
	a.Link = "https://news.example/1"
	addPending(t, st, now, pendingFor(t, "head@example.org", "1", a))
	if n, err := g.Flush(ctx, now, true); err != nil || n != 1 {
		t.Fatalf("Flush = %d, %v", n, err)
	}
	msgs, err := st.DueCapped(ctx, now, 0, 10)
	if err != nil || len(msgs) != 1 {
		t.Fatalf("outbox = %d, %v", len(msgs), err)
	}
	text, html := parts(t, msgs[0].Raw)
	for _, l := range []struct{ text, url string }{
		{"Acknowledge", "https://sw.example.org/act?t=1-item-1-head@example.org-ack"},
		{"Not relevant", "https://sw.example.org/act?t=1-item-1-head@example.org-nr"},
		{"Mute this thread for 7 days", "https://sw.example.org/act?t=1-item-1-head@example.org-mute"},
	} {
		if !strings.Contains(html, `<a href="`+l.url+`" class="sw-link" style="color:#0b57d0;">`+l.text+`</a>`) {
			t.Errorf("the HTML part lacks <a> %q to %s", l.text, l.url)
		}
		if !strings.Contains(text, l.text+": "+l.url) {
			t.Errorf("the text part lacks %q: %s", l.text, l.url)
		}
	}
	if strings.Contains(text, "Status:") {
		t.Error("a first mail shows a status")
	}
	in, err := st.Incidents(ctx, time.Time{}, 0)
	if err != nil || len(in) != 1 || in[0].Link != a.Link || in[0].Severity != "high" || in[0].Findings != "allegation" || in[0].Status != store.StatusNew {
		t.Fatalf("incident log = %+v, %v", in, err)
	}
	if err := st.ActOnIncident(ctx, now.Add(42*time.Minute), "1", "item-1", "head@example.org", store.StatusAcknowledged, "<b>rang LADO</b>", time.Time{}); err != nil {
		t.Fatal(err)
	}
	edit := a
	edit.ItemKey = "item-1#v2"
	addPending(t, st, now.Add(time.Hour), pendingFor(t, "dsl@example.org", "1", edit))
	if n, err := g.Flush(ctx, now.Add(time.Hour), true); err != nil || n != 1 {
		t.Fatalf("second Flush = %d, %v", n, err)
	}
	msgs, _ = st.DueCapped(ctx, now.Add(time.Hour), 0, 10)
	var later []byte
	for _, m := range msgs {
		if m.Recipient == "dsl@example.org" {
			later = m.Raw
		}
	}
	text, html = parts(t, later)
	if !strings.Contains(strings.Join(strings.Fields(text), " "), "Status: Acknowledged by head@example.org at Mon 30 Nov 07:42: <b>rang LADO</b>") {
		t.Errorf("the later mail's text does not show the acknowledgement:\n%s", text)
	}
	if !strings.Contains(html, "Acknowledged by head@example.org at Mon 30 Nov 07:42: &lt;b&gt;rang LADO&lt;/b&gt;") {
		t.Errorf("the later mail's HTML does not show the acknowledgement, escaped")
	}
}

// TestDigestReportsMutedAlerts: an alert a mute held back is listed once,
// in the recipient's next digest, with the post's title and who muted it.
func TestDigestReportsMutedAlerts(t *testing.T) {
	st := openStore(t)
	ctx := context.Background()
	now := time.Date(2026, 11, 30, 7, 0, 0, 0, time.UTC)
	g := &Grouper{Store: st, Renderer: testRenderer()}
	a := hostileAlert()
	a.Title = "The thread everyone is sharing"
	a.Link = "https://news.example/1"
	addPending(t, st, now, pendingFor(t, "head@example.org", "1", a))
	if _, err := g.Flush(ctx, now, true); err != nil {
		t.Fatal(err)
	}
	if err := st.ActOnIncident(ctx, now, "1", a.ItemKey, "head@example.org", store.StatusMuted, "", now.Add(7*24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	edit := a
	edit.ItemKey = a.ItemKey + "#v2"
	held := pendingFor(t, "dsl@example.org", "1", edit)
	held.Delivery = "digest"
	other := hostileAlert()
	other.ItemKey, other.Title = "item-2", "Another post"
	next := pendingFor(t, "dsl@example.org", "1", other)
	next.Delivery = "digest"
	addPending(t, st, now.Add(time.Hour), held, next)
	if n, err := g.Digest(ctx, now.Add(2*time.Hour)); err != nil || n != 1 {
		t.Fatalf("Digest = %d, %v", n, err)
	}
	msgs, _ := st.DueCapped(ctx, now.Add(2*time.Hour), 0, 10)
	var digest []byte
	for _, m := range msgs {
		if m.Recipient == "dsl@example.org" {
			digest = m.Raw
		}
	}
	text, html := parts(t, digest)
	flat := strings.Join(strings.Fields(text), " ")
	if !strings.Contains(flat, "HELD BACK BY A MUTE") || !strings.Contains(flat, "“The thread everyone is sharing” (St Mary's CE Primary), muted by head@example.org") {
		t.Errorf("the digest does not report the held-back alert:\n%s", text)
	}
	if !strings.Contains(html, "Held back by a mute") {
		t.Error("the digest's HTML does not report the held-back alert")
	}
	if strings.Contains(flat, "THE POSTS") || strings.Count(flat, "Another post") == 0 {
		t.Errorf("the digest should carry the one other post:\n%s", text)
	}
	if sup, err := st.Suppressions(ctx, "dsl@example.org"); err != nil || len(sup) != 0 {
		t.Errorf("suppressions after the digest = %+v, %v; want none left to report", sup, err)
	}
}
