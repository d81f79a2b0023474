package alerts

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/schoolwatch/schoolwatch/alerts/smtptest"
	"github.com/schoolwatch/schoolwatch/config"
	"github.com/schoolwatch/schoolwatch/store"
)

// smtpDeliverer returns a deliverer for the test server, plain SMTP.
func smtpDeliverer(t *testing.T, srv *smtptest.Server) *SMTPDeliverer {
	t.Helper()
	d, err := NewSMTPDeliverer(&config.Mail{From: "schoolwatch <alerts@example.org>", SMTP: &config.SMTP{Host: srv.Host(), Port: srv.Port(), TLS: "none", Timeout: config.D(5 * time.Second)}})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// queueOne routes one finding to dsl@x.org and flushes it into the outbox.
func queueOne(t *testing.T, st *store.Store, now time.Time) {
	t.Helper()
	if err := enqueueOne(st, now); err != nil {
		t.Fatal(err)
	}
}

func enqueueOne(st *store.Store, now time.Time) error {
	ctx := context.Background()
	f := hostileFinding()
	p := store.Pending{Recipient: "dsl@x.org", SchoolID: "1", ItemKey: f.ItemKey, RuleID: f.RuleID, Severity: SeverityRank(f.Severity), Delivery: "immediate", Payload: f.encode()}
	if err := st.AddPending(ctx, now, p); err != nil {
		return err
	}
	g := &Grouper{Store: st, Renderer: testRenderer(), GroupWait: time.Minute, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	if n, err := g.Flush(ctx, now, true); err != nil || n != 1 {
		return fmt.Errorf("flush = %d, %v", n, err)
	}
	return nil
}

// metricValue reads a counter or gauge.
func metricValue(t *testing.T, c prometheus.Metric) float64 {
	t.Helper()
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		t.Fatal(err)
	}
	if m.Counter != nil {
		return m.Counter.GetValue()
	}
	return m.Gauge.GetValue()
}

// fakeClock is a settable clock for the sender.
type fakeClock struct{ t time.Time }

func (c *fakeClock) Now() time.Time          { return c.t }
func (c *fakeClock) Advance(d time.Duration) { c.t = c.t.Add(d) }

// TestOutboxDelivery drives the sender through the server's failure modes.
// Every case must end with each mail delivered at most once, and a
// temporary failure must not lose the mail.
func TestOutboxDelivery(t *testing.T) {
	tests := []struct {
		name string
		// replies are the server's DATA answers before it accepts; down
		// keeps the server closed for the first attempt.
		replies    []int
		down       bool
		attempts   int // drains to run, advancing the clock past each backoff
		wantSent   int // messages the server accepted
		wantStatus string
		wantResult map[string]float64
	}{
		{name: "normal delivery", attempts: 1, wantSent: 1, wantStatus: store.StatusSent,
			wantResult: map[string]float64{"sent": 1}},
		{name: "server down then up", down: true, attempts: 2, wantSent: 1, wantStatus: store.StatusSent,
			wantResult: map[string]float64{"sent": 1, "retried": 1}},
		{name: "451 then 250", replies: []int{451}, attempts: 2, wantSent: 1, wantStatus: store.StatusSent,
			wantResult: map[string]float64{"sent": 1, "retried": 1}},
		{name: "451 twice then 250", replies: []int{451, 451}, attempts: 3, wantSent: 1, wantStatus: store.StatusSent,
			wantResult: map[string]float64{"sent": 1, "retried": 2}},
		{name: "550 is permanent", replies: []int{550}, attempts: 3, wantSent: 0, wantStatus: store.StatusFailed,
			wantResult: map[string]float64{"failed": 1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			srv := smtptest.Start(t)
			srv.Reply(tc.replies...)
			if tc.down {
				srv.Close()
			}
			st := openStore(t)
			clock := &fakeClock{t: time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)}
			queueOne(t, st, clock.t)
			reg := prometheus.NewRegistry()
			metrics := NewMetrics(reg)
			s := NewSender(st, smtpDeliverer(t, srv), time.Second, time.Minute, nil, metrics)
			s.Now = clock.Now
			for i := 0; i < tc.attempts; i++ {
				if _, err := s.Drain(ctx); err != nil {
					t.Fatal(err)
				}
				if tc.down && i == 0 {
					// A failed attempt leaves the mail pending and due later.
					ms, _ := st.Messages(ctx, store.StatusPending, 10)
					if len(ms) != 1 || ms[0].Attempts != 1 || ms[0].LastError == "" {
						t.Fatalf("after a refused connection: %+v", ms)
					}
					if err := srv.Restart(); err != nil {
						t.Fatal(err)
					}
				}
				clock.Advance(time.Minute)
			}
			if got := len(srv.Messages()); got != tc.wantSent {
				t.Errorf("server accepted %d mails, want %d", got, tc.wantSent)
			}
			ms, err := st.Messages(ctx, "", 10)
			if err != nil || len(ms) != 1 {
				t.Fatalf("outbox: %d messages, %v", len(ms), err)
			}
			if ms[0].Status != tc.wantStatus {
				t.Errorf("status = %q (last error %q), want %q", ms[0].Status, ms[0].LastError, tc.wantStatus)
			}
			if tc.wantStatus == store.StatusFailed && ms[0].LastError == "" {
				t.Errorf("a permanent failure must record why")
			}
			for _, r := range []string{"sent", "failed", "retried"} {
				if got := metricValue(t, metrics.results.WithLabelValues(r)); got != tc.wantResult[r] {
					t.Errorf("schoolwatch_alerts_total{result=%q} = %v, want %v", r, got, tc.wantResult[r])
				}
			}
			if got := metricValue(t, metrics.depth); got != 0 {
				t.Errorf("outbox depth = %v after the last attempt, want 0", got)
			}
		})
	}
}

// TestOutboxBackoffWithinSeconds: after a temporary failure the next
// attempt is due Initial later, not a poll interval later, and the delay
// doubles up to Max.
func TestOutboxBackoffWithinSeconds(t *testing.T) {
	tests := []struct {
		attempts int
		want     time.Duration
	}{
		{1, 5 * time.Second}, {2, 10 * time.Second}, {3, 20 * time.Second}, {10, 10 * time.Minute}, {100, 10 * time.Minute},
	}
	for _, tc := range tests {
		if got := Backoff(tc.attempts, 5*time.Second, 10*time.Minute); got != tc.want {
			t.Errorf("Backoff(%d) = %v, want %v", tc.attempts, got, tc.want)
		}
	}
	ctx := context.Background()
	srv := smtptest.Start(t)
	srv.Close()
	st := openStore(t)
	now := time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)
	queueOne(t, st, now)
	s := NewSender(st, smtpDeliverer(t, srv), 2*time.Second, time.Minute, nil, nil)
	s.Now = func() time.Time { return now }
	if _, err := s.Drain(ctx); err != nil {
		t.Fatal(err)
	}
	next, err := st.NextDue(ctx)
	if err != nil || !next.Equal(now.Add(2*time.Second)) {
		t.Errorf("next attempt at %v (%v), want %v", next, err, now.Add(2*time.Second))
	}
}

// TestOutboxSurvivesRestart: a mail enqueued by a process that stopped
// before sending is delivered, once, by the next process.
func TestOutboxSurvivesRestart(t *testing.T) {
	ctx := context.Background()
	srv := smtptest.Start(t)
	path := filepath.Join(t.TempDir(), "sw.db")
	now := time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)

	first, err := store.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	queueOne(t, first, now)
	if err := first.Close(); err != nil { // "killed" before the sender ran
		t.Fatal(err)
	}

	second, err := store.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer second.Close()
	s := NewSender(second, smtpDeliverer(t, srv), time.Second, time.Minute, nil, nil)
	s.Now = func() time.Time { return now }
	if sent, err := s.Drain(ctx); err != nil || sent != 1 {
		t.Fatalf("drain after restart: %d, %v", sent, err)
	}
	if sent, err := s.Drain(ctx); err != nil || sent != 0 {
		t.Fatalf("second drain: %d, %v (already sent)", sent, err)
	}
	if got := len(srv.Messages()); got != 1 {
		t.Errorf("server accepted %d mails, want 1", got)
	}
}

// TestMessageIDStable: rendering the same group twice gives the same
// Message-ID, so a resend after a crash is recognisable.
func TestMessageIDStable(t *testing.T) {
	now := time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)
	mk := func() string {
		ps := []store.Pending{pendingFor(t, "dsl@x.org", "1", hostileFinding())}
		ps[0].ID, ps[0].Created = 7, now
		grp := groupPending(ps, "alert", func(p store.Pending) string { return p.Recipient + "\x00" + p.SchoolID })[0]
		m, err := testRenderer().Render(grp, now)
		if err != nil {
			t.Fatal(err)
		}
		return m.Key
	}
	if a, b := mk(), mk(); a != b || a == "" {
		t.Errorf("keys differ: %q, %q", a, b)
	}
}

// TestDigest: an empty digest sends nothing; a digest holds every pending
// digest finding for the leader, across schools, and nothing immediate.
func TestDigest(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	now := time.Date(2026, 11, 25, 7, 0, 0, 0, time.UTC)
	g := &Grouper{Store: st, Renderer: testRenderer(), GroupWait: time.Minute}
	if n, err := g.Digest(ctx, now); err != nil || n != 0 {
		t.Fatalf("empty digest queued %d mails (%v)", n, err)
	}
	a := hostileFinding()
	b := hostileFinding()
	b.ItemKey, b.SchoolID, b.SchoolName = "item-9", "2", "Oak Academy"
	digest := func(p store.Pending) store.Pending { p.Delivery = "digest"; return p }
	err := st.AddPending(ctx, now,
		digest(pendingFor(t, "head@x.org", "1", a)),
		digest(pendingFor(t, "head@x.org", "2", b)),
		digest(pendingFor(t, "dsl@x.org", "2", b)),
		pendingFor(t, "head@x.org", "1", func() Finding { f := a; f.ItemKey = "item-imm"; return f }()),
	)
	if err != nil {
		t.Fatal(err)
	}
	if n, err := g.Digest(ctx, now); err != nil || n != 2 {
		t.Fatalf("digest queued %d mails (%v), want one per leader", n, err)
	}
	ms, _ := st.Messages(ctx, "", 10)
	for _, m := range ms {
		if m.Kind != "digest" {
			t.Errorf("digest run queued a %s mail", m.Kind)
		}
		if m.Recipient == "head@x.org" && m.Subject != "[schoolwatch] Daily digest: 2 items" {
			t.Errorf("head's digest subject = %q", m.Subject)
		}
	}
	if n, _ := g.Digest(ctx, now); n != 0 {
		t.Errorf("a second digest run queued %d mails", n)
	}
	if ps, _ := st.ListPending(ctx, "immediate"); len(ps) != 1 {
		t.Errorf("the digest consumed immediate findings: %d left, want 1", len(ps))
	}
}

// BenchmarkDrainSMTP measures delivering queued mails to the test SMTP
// server on 127.0.0.1, one connection per mail.
func BenchmarkDrainSMTP(b *testing.B) {
	ctx := context.Background()
	srv := smtptest.Start(b)
	st, err := store.Open(ctx, filepath.Join(b.TempDir(), "sw.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	now := time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)
	raw, err := BuildMessage(Envelope{From: "schoolwatch <alerts@example.org>", To: "dsl@x.org", Subject: "bench", MessageID: "<bench@test.invalid>", Date: now}, strings.Repeat("text ", 2000), strings.Repeat("<p>html</p>", 1000))
	if err != nil {
		b.Fatal(err)
	}
	for i := range b.N {
		if _, err := st.Enqueue(ctx, now, store.Message{Key: fmt.Sprintf("bench-%d", i), Kind: "alert", Recipient: "dsl@x.org", Subject: "bench", Raw: raw}, nil, nil); err != nil {
			b.Fatal(err)
		}
	}
	d, err := NewSMTPDeliverer(&config.Mail{From: "schoolwatch <alerts@example.org>", SMTP: &config.SMTP{Host: srv.Host(), Port: srv.Port(), TLS: "none", Timeout: config.D(5 * time.Second)}})
	if err != nil {
		b.Fatal(err)
	}
	s := NewSender(st, d, time.Second, time.Minute, slog.New(slog.NewTextHandler(io.Discard, nil)), nil)
	s.Now = func() time.Time { return now }
	b.ResetTimer()
	if sent, err := s.Drain(ctx); err != nil || sent != b.N {
		b.Fatalf("drained %d of %d: %v", sent, b.N, err)
	}
}
