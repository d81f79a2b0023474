package mail

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
	"github.com/schoolwatch/schoolwatch/store"
)

func openStore(t testing.TB) *store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "sw.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// smtpDeliverer returns a deliverer for the test server, plain SMTP.
func smtpDeliverer(t testing.TB, srv *smtptest.Server) *SMTPDeliverer {
	t.Helper()
	d, err := NewSMTPDeliverer(SMTPOptions{From: "schoolwatch <alerts@example.org>", Host: srv.Host(), Port: srv.Port(), TLS: "none", Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// queueOne writes one alert for dsl@x.org to the outbox.
func queueOne(t *testing.T, st *store.Store, now time.Time) {
	t.Helper()
	if err := enqueueOne(st, now); err != nil {
		t.Fatal(err)
	}
}

func enqueueOne(st *store.Store, now time.Time) error {
	const key = "alert-0123456789abcdef01234567"
	subject := "[schoolwatch][HIGH] Possible allegation against staff — St Mary's CE Primary"
	raw, err := BuildMessage(Envelope{From: "schoolwatch <alerts@example.org>", To: "dsl@x.org", Subject: subject, MessageID: MessageID(key, "test.invalid"), Date: now},
		"A post may name a member of staff.\n", "<p>A post may name a member of staff.</p>")
	if err != nil {
		return err
	}
	added, err := st.Enqueue(context.Background(), now, store.Message{Key: key, Kind: string(KindAlert), Recipient: "dsl@x.org", Subject: subject, Raw: raw}, nil, nil)
	if err == nil && !added {
		err = fmt.Errorf("mail %s was already in the outbox", key)
	}
	return err
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
				if got := metricValue(t, metrics.deliveries.WithLabelValues(ms[0].Kind, r)); got != tc.wantResult[r] {
					t.Errorf("schoolwatch_mail_deliveries_total{kind=%q,result=%q} = %v, want %v", ms[0].Kind, r, got, tc.wantResult[r])
				}
				if got := metricValue(t, metrics.deliveries.WithLabelValues(string(KindHeartbeat), r)); got != 0 {
					t.Errorf("schoolwatch_mail_deliveries_total{kind=heartbeat,result=%q} = %v, want 0", r, got)
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

// BenchmarkDrainSMTP measures delivering queued mails to the test SMTP
// server on 127.0.0.1, one connection per mail.
func BenchmarkDrainSMTP(b *testing.B) {
	ctx := context.Background()
	srv := smtptest.Start(b)
	st := openStore(b)
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
	s := NewSender(st, smtpDeliverer(b, srv), time.Second, time.Minute, slog.New(slog.NewTextHandler(io.Discard, nil)), nil)
	s.Now = func() time.Time { return now }
	b.ResetTimer()
	if sent, err := s.Drain(ctx); err != nil || sent != b.N {
		b.Fatalf("drained %d of %d: %v", sent, b.N, err)
	}
}

// TestOutboxRetryAfterClockStepBack: a retry deadline stored by a clock
// that was hours fast (since corrected) does not hold the mail for hours:
// it goes within mail.retry.max. A deadline within retry.max is kept.
func TestOutboxRetryAfterClockStepBack(t *testing.T) {
	ctx := context.Background()
	r := newFaultRig(t, time.Second, 10*time.Minute)
	now := r.clock.t
	r.sender.Now = r.clock.Now
	due, err := r.st.DueCapped(ctx, now, 0, 10)
	if err != nil || len(due) != 2 {
		t.Fatalf("due: %d, %v", len(due), err)
	}
	next := map[string]time.Time{"mail-0": now.Add(6 * time.Hour), "mail-1": now.Add(5 * time.Minute)}
	for _, m := range due {
		if err := r.st.MarkRetry(ctx, m.ID, next[m.Key], "refused"); err != nil {
			t.Fatal(err)
		}
	}
	if sent, err := r.sender.Drain(ctx); err != nil || sent != 1 {
		t.Fatalf("drain now: %d, %v; want the 6h deadline sent", sent, err)
	}
	if got := r.statuses(t); got["mail-0"] != store.StatusSent || got["mail-1"] != store.StatusPending {
		t.Fatalf("statuses = %v", got)
	}
	if w := r.sender.idleWait(ctx); w > 5*time.Minute {
		t.Errorf("sender sleeps %v, want at most until the 5m deadline", w)
	}
	r.clock.Advance(5 * time.Minute)
	if sent, err := r.sender.Drain(ctx); err != nil || sent != 1 {
		t.Fatalf("drain at the 5m deadline: %d, %v", sent, err)
	}
}
