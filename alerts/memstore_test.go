package alerts

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/schoolwatch/schoolwatch/mail"
	"github.com/schoolwatch/schoolwatch/rules"
	"github.com/schoolwatch/schoolwatch/store"
	"github.com/schoolwatch/schoolwatch/watchers"
)

// memStore is an in-memory PendingStore: pending rows, the outbox by
// content key and the alert log, with the store's transaction semantics
// (the rows a mail carries go, and its items are logged, with the mail).
type memStore struct {
	pending []store.Pending
	outbox  []store.Message
	alerted map[string]bool // recipient + "\x00" + item key
	fail    error           // if set, Enqueue fails and changes nothing
}

func (s *memStore) add(now time.Time, ps ...store.Pending) {
	for _, p := range ps {
		p.ID, p.Created = int64(len(s.pending)+len(s.outbox)+1), now
		s.pending = append(s.pending, p)
	}
}

func (s *memStore) ListPending(_ context.Context, delivery string) ([]store.Pending, error) {
	var out []store.Pending
	for _, p := range s.pending {
		if p.Delivery == delivery {
			out = append(out, p)
		}
	}
	return out, nil
}

func (s *memStore) Enqueue(_ context.Context, now time.Time, m store.Message, pendingIDs []int64, itemKeys []string) (bool, error) {
	if s.fail != nil {
		return false, s.fail
	}
	s.pending = slices.DeleteFunc(s.pending, func(p store.Pending) bool { return slices.Contains(pendingIDs, p.ID) })
	if s.alerted == nil {
		s.alerted = map[string]bool{}
	}
	for _, k := range itemKeys {
		s.alerted[m.Recipient+"\x00"+k] = true
	}
	if slices.ContainsFunc(s.outbox, func(o store.Message) bool { return o.Key == m.Key }) {
		return false, nil
	}
	m.Created = now
	s.outbox = append(s.outbox, m)
	return true, nil
}

// TestGrouperInMemory runs the grouper on memStore: a critical finding
// goes at once, the others when their group has waited GroupWait, one
// mail per recipient and school; the digest takes the rest, one per
// recipient; each queued mail wakes the sender and is counted by kind,
// and a store that fails queues nothing and wakes nobody.
func TestGrouperInMemory(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)
	alert := func(item, school string, sev rules.Severity) Alert {
		a := hostileAlert()
		a.ItemKey, a.SchoolID, a.Severity = item, school, sev
		return a
	}
	st := &memStore{}
	st.add(now.Add(-2*time.Minute), pendingFor(t, "dsl@x.org", "1", alert("item-1", "1", rules.High)))
	st.add(now,
		pendingFor(t, "head@x.org", "1", alert("item-2", "1", rules.Critical)),
		pendingFor(t, "head@x.org", "2", alert("item-3", "2", rules.Normal)),
	)
	digest := pendingFor(t, "head@x.org", "2", alert("item-4", "2", rules.Low))
	digest.Delivery = string(rules.Digest)
	st.add(now, digest)

	reg := prometheus.NewRegistry()
	metrics := NewMetrics(reg)
	wakes := 0
	g := &Grouper{Store: st, Renderer: testRenderer(), GroupWait: 5 * time.Minute, Metrics: metrics, Wake: func() { wakes++ }}

	queued := func(at time.Time, want int) {
		t.Helper()
		if n, err := g.Flush(ctx, at, false); err != nil || n != want {
			t.Fatalf("flush at %v: %d mails, %v; want %d", at.Sub(now), n, err, want)
		}
	}
	queued(now, 1) // the critical one
	if m := st.outbox[0]; m.Recipient != "head@x.org" || !strings.Contains(m.Subject, "[CRITICAL]") || m.Kind != string(mail.KindAlert) {
		t.Errorf("first mail = %s %s %q", m.Kind, m.Recipient, m.Subject)
	}
	if !st.alerted["head@x.org\x00item-2"] || len(st.pending) != 3 {
		t.Errorf("after the critical mail: alert log %v, %d rows pending", st.alerted, len(st.pending))
	}
	queued(now.Add(4*time.Minute), 1) // the DSL's group has waited 6 minutes
	queued(now.Add(5*time.Minute), 1) // the head's school 2 group, 5 minutes
	queued(now.Add(time.Hour), 0)

	st.fail = errors.New("disk full")
	if n, err := g.Digest(ctx, now); !errors.Is(err, st.fail) || n != 0 {
		t.Fatalf("digest on a failing store: %d, %v", n, err)
	}
	if len(st.pending) != 1 || len(st.outbox) != 3 || wakes != 3 {
		t.Fatalf("a failed digest changed the store (%d pending, %d mails) or woke the sender (%d)", len(st.pending), len(st.outbox), wakes)
	}
	st.fail = nil
	if n, err := g.Digest(ctx, now); err != nil || n != 1 {
		t.Fatalf("digest: %d, %v", n, err)
	}
	if m := st.outbox[3]; m.Kind != string(mail.KindDigest) || m.Subject != "[schoolwatch] Daily digest: 1 item" {
		t.Errorf("digest mail = %s %q", m.Kind, m.Subject)
	}
	if len(st.pending) != 0 || wakes != 4 {
		t.Errorf("%d rows still pending, %d wakes; want 0 and one per mail", len(st.pending), wakes)
	}
	for kind, want := range map[mail.Kind]float64{mail.KindAlert: 3, mail.KindDigest: 1} {
		if got := gathered(t, reg, "schoolwatch_mails_queued_total", string(kind)); got != want {
			t.Errorf("schoolwatch_mails_queued_total{kind=%q} = %v, want %v", kind, got, want)
		}
	}
}

// memNoticeLog is an in-memory NoticeLog: the outbox by content key and
// the notice log by feed, written together as the store's transaction is.
type memNoticeLog struct {
	outbox []store.Message
	log    map[string]store.FeedNotice
}

func (l *memNoticeLog) FeedNoticesAt(context.Context, time.Time) (map[string]store.FeedNotice, error) {
	out := map[string]store.FeedNotice{}
	for id, n := range l.log {
		out[id] = n
	}
	return out, nil
}

func (l *memNoticeLog) EnqueueNotice(_ context.Context, _ time.Time, m store.Message, put []store.FeedNotice, cleared []string) (bool, error) {
	for _, n := range put {
		l.log[n.FeedID] = n
	}
	for _, id := range cleared {
		delete(l.log, id)
	}
	if slices.ContainsFunc(l.outbox, func(o store.Message) bool { return o.Key == m.Key }) {
		return false, nil
	}
	l.outbox = append(l.outbox, m)
	return true, nil
}

// TestNotifierInMemory: a feed that starts failing is notified once, with
// the log updated alongside the mail; a lasting failure waits for the
// daily reminder; recovery is notified and clears the log; with no
// operator nothing is queued.
func TestNotifierInMemory(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)
	l := &memNoticeLog{log: map[string]store.FeedNotice{}}
	wakes := 0
	n := &Notifier{Letterhead: letterheadAt(func() time.Time { return now }), Store: l, To: "ops@example.org", Wake: func() { wakes++ }}
	failing := []FeedHealth{{Feed: watchers.Feed{ID: "news", Name: "Gazette"}, State: store.FeedState{FeedID: "news", Failures: 3, FailingSince: now, ErrorClass: "http_5xx", LastError: "http_5xx: 503"}, Health: watchers.HealthFailing}}
	healthy := []FeedHealth{{Feed: watchers.Feed{ID: "news", Name: "Gazette"}, Health: watchers.HealthOK}}
	step := func(feeds []FeedHealth, want bool) {
		t.Helper()
		if added, err := n.Queue(ctx, feeds); err != nil || added != want {
			t.Fatalf("at %v: queued = %v, %v; want %v", now.Format(time.DateTime), added, err, want)
		}
	}
	step(failing, true)
	if m := l.outbox[0]; m.Kind != string(mail.KindNotice) || m.Subject != "[schoolwatch] feed news is failing" || l.log["news"].Condition != NoticeFailing {
		t.Errorf("notice %s %q, log %+v", m.Kind, m.Subject, l.log)
	}
	now = now.Add(time.Hour)
	step(failing, false)
	now = now.Add(24 * time.Hour)
	step(failing, true) // the daily reminder
	step(healthy, true)
	if last := l.outbox[len(l.outbox)-1]; last.Subject != "[schoolwatch] feed news is working again" || len(l.log) != 0 {
		t.Errorf("recovery notice %q, log %+v", last.Subject, l.log)
	}
	if wakes != 3 {
		t.Errorf("%d wakes, want one per notice", wakes)
	}
	n.To = ""
	step(failing, false)
	if len(l.outbox) != 3 || len(l.log) != 0 {
		t.Errorf("with no operator: %d mails, log %+v", len(l.outbox), l.log)
	}
}
