package mail

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/schoolwatch/schoolwatch/alerts/smtptest"
	"github.com/schoolwatch/schoolwatch/store"
)

// errDiskFull is what SQLite says when the disk is full.
var errDiskFull = errors.New("database or disk is full (13)")

// faultyOutbox is a real store whose writes (the Mark* calls) or reads
// (DueCapped) fail on demand, as on a full or read-only disk.
type faultyOutbox struct {
	*store.Store
	failWrites, failReads atomic.Bool
	marks                 atomic.Int64 // Mark* calls, failed or not
}

func (f *faultyOutbox) write() error {
	f.marks.Add(1)
	if f.failWrites.Load() {
		return fmt.Errorf("outbox: %w", errDiskFull)
	}
	return nil
}

func (f *faultyOutbox) MarkSent(ctx context.Context, id int64, now time.Time) error {
	if err := f.write(); err != nil {
		return err
	}
	return f.Store.MarkSent(ctx, id, now)
}

func (f *faultyOutbox) MarkRetry(ctx context.Context, id int64, next time.Time, reason string) error {
	if err := f.write(); err != nil {
		return err
	}
	return f.Store.MarkRetry(ctx, id, next, reason)
}

func (f *faultyOutbox) MarkFailed(ctx context.Context, id int64, reason string) error {
	if err := f.write(); err != nil {
		return err
	}
	return f.Store.MarkFailed(ctx, id, reason)
}

func (f *faultyOutbox) DueCapped(ctx context.Context, now time.Time, maxDelay time.Duration, limit int) ([]store.Message, error) {
	if f.failReads.Load() {
		return nil, fmt.Errorf("outbox due: %w", errors.New("disk I/O error (10)"))
	}
	return f.Store.DueCapped(ctx, now, maxDelay, limit)
}

// countingDeliverer counts delivery attempts.
type countingDeliverer struct {
	d Deliverer
	n atomic.Int64
}

func (c *countingDeliverer) Deliver(ctx context.Context, m Message) error {
	c.n.Add(1)
	return c.d.Deliver(ctx, m)
}

// syncBuffer is a log destination safe for a running sender.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// faultRig is a sender on a faulty store with two mails queued, and a real
// SMTP server on 127.0.0.1.
type faultRig struct {
	st     *store.Store
	out    *faultyOutbox
	srv    *smtptest.Server
	dlv    *countingDeliverer
	sender *Sender
	logs   *syncBuffer
	clock  *fakeClock
}

func newFaultRig(t *testing.T, initial, max time.Duration) *faultRig {
	t.Helper()
	r := &faultRig{st: openStore(t), srv: smtptest.Start(t), logs: &syncBuffer{}, clock: &fakeClock{t: time.Now()}}
	r.out = &faultyOutbox{Store: r.st}
	r.dlv = &countingDeliverer{d: smtpDeliverer(t, r.srv)}
	r.sender = NewSender(r.out, r.dlv, initial, max, slog.New(slog.NewTextHandler(r.logs, nil)), nil)
	for i := range 2 {
		key := fmt.Sprintf("mail-%d", i)
		raw, err := BuildMessage(Envelope{From: "schoolwatch <alerts@example.org>", To: "dsl@x.org", Subject: key, MessageID: MessageID(key, "test.invalid"), Date: r.clock.t}, "text "+key, "<p>html</p>")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := r.st.Enqueue(context.Background(), r.clock.t, store.Message{Key: key, Kind: "alert", Recipient: "dsl@x.org", Subject: key, Raw: raw}, nil, nil); err != nil {
			t.Fatal(err)
		}
	}
	return r
}

// copies counts the server's mails per Message-ID.
func (r *faultRig) copies(t *testing.T) map[string]int {
	t.Helper()
	out := map[string]int{}
	for _, m := range r.srv.Messages() {
		pm, err := m.Parse()
		if err != nil {
			t.Fatal(err)
		}
		out[pm.Header.Get("Message-Id")]++
	}
	return out
}

func (r *faultRig) statuses(t *testing.T) map[string]string {
	t.Helper()
	ms, err := r.st.Messages(context.Background(), "", 10)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, m := range ms {
		out[m.Key] = m.Status
	}
	return out
}

// TestOutboxStoreFailure: when the store fails at any step, a drain stops
// at the first failure and reports it; a mail the server accepted (or
// rejected for good) is never sent again while its outcome cannot be
// recorded, and the outcome is written once the store works.
func TestOutboxStoreFailure(t *testing.T) {
	tests := []struct {
		name      string
		setup     func(r *faultRig) // server behaviour, before the first drain
		failReads bool
		// wantTries is the deliveries after the drains on the failing store;
		// wantAfter the statuses once it works again.
		wantTries int64
		wantAfter map[string]string
		wantMails int // mails the server accepted in all
	}{
		{name: "accepted, then mark sent fails", setup: func(*faultRig) {},
			wantTries: 1, wantMails: 2, wantAfter: map[string]string{"mail-0": store.StatusSent, "mail-1": store.StatusSent}},
		{name: "rejected for good, then mark failed fails", setup: func(r *faultRig) { r.srv.Reply(550, 550) },
			wantTries: 1, wantMails: 0, wantAfter: map[string]string{"mail-0": store.StatusFailed, "mail-1": store.StatusFailed}},
		// A retry's outcome is not kept: each drain tries one mail, once,
		// then stops; the waits between drains are Run's.
		{name: "server down, then mark retry fails", setup: func(r *faultRig) { r.srv.Close() },
			wantTries: 5, wantMails: 0, wantAfter: map[string]string{"mail-0": store.StatusPending, "mail-1": store.StatusPending}},
		{name: "due fails", setup: func(*faultRig) {}, failReads: true,
			wantTries: 0, wantMails: 2, wantAfter: map[string]string{"mail-0": store.StatusSent, "mail-1": store.StatusSent}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			r := newFaultRig(t, time.Second, time.Minute)
			r.sender.Now = r.clock.Now
			tc.setup(r)
			r.out.failWrites.Store(true)
			r.out.failReads.Store(tc.failReads)
			for i := range 5 {
				if _, err := r.sender.Drain(ctx); err == nil {
					t.Fatalf("drain %d on a failing store reported no error", i+1)
				}
				if r.sender.Err() == nil {
					t.Fatalf("drain %d: Err() = nil while the store fails", i+1)
				}
				r.clock.Advance(time.Minute) // every retry is due again
			}
			if got := r.dlv.n.Load(); got != tc.wantTries {
				t.Errorf("%d delivery attempts on the failing store, want %d", got, tc.wantTries)
			}
			for id, n := range r.copies(t) {
				if n > 1 {
					t.Errorf("%s delivered %d times", id, n)
				}
			}

			r.out.failWrites.Store(false)
			r.out.failReads.Store(false)
			if _, err := r.sender.Drain(ctx); err != nil {
				t.Fatalf("drain on a working store: %v", err)
			}
			if err := r.sender.Err(); err != nil {
				t.Errorf("Err() = %v once the store works", err)
			}
			if n := r.sender.Unrecorded.Len(); n != 0 {
				t.Errorf("%d outcomes still unrecorded", n)
			}
			if got := r.statuses(t); fmt.Sprint(got) != fmt.Sprint(tc.wantAfter) {
				t.Errorf("statuses = %v, want %v", got, tc.wantAfter)
			}
			got := r.copies(t)
			total := 0
			for id, n := range got {
				total += n
				if n > 1 {
					t.Errorf("%s delivered %d times", id, n)
				}
			}
			if total != tc.wantMails {
				t.Errorf("server accepted %d mails, want %d", total, tc.wantMails)
			}
		})
	}
}

// TestOutboxRunWaitsOnStoreFailure: Run on a failing store waits between
// attempts (backoff) instead of spinning, logs the failure once rather
// than at every attempt, sends the accepted mail once, and resumes by
// itself when the store works again.
func TestOutboxRunWaitsOnStoreFailure(t *testing.T) {
	r := newFaultRig(t, 50*time.Millisecond, 200*time.Millisecond)
	r.out.failWrites.Store(true)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.sender.Run(ctx) }()
	defer func() {
		cancel()
		<-done
	}()
	// About 1.5 s of backoff: 50, 100, 200, 200, ... ms.
	deadline := time.Now().Add(10 * time.Second)
	for r.out.marks.Load() < 8 {
		if time.Now().After(deadline) {
			t.Fatalf("only %d store attempts in 10s", r.out.marks.Load())
		}
		time.Sleep(10 * time.Millisecond)
	}
	start, marks := time.Now(), r.out.marks.Load()
	time.Sleep(time.Second)
	// 1 s at a 200 ms cap is 5 attempts; allow for a slow machine the
	// other way only. Before the fix this was thousands.
	if n := r.out.marks.Load() - marks; n > 8 {
		t.Errorf("%d store attempts in %v on a failing store: the sender spins", n, time.Since(start).Round(time.Millisecond))
	}
	if n := r.dlv.n.Load(); n != 1 {
		t.Errorf("%d delivery attempts while the store fails, want 1 (then stop)", n)
	}
	if err := r.sender.Err(); err == nil || !strings.Contains(err.Error(), "not yet recorded") {
		t.Errorf("Err() = %v, want the unrecorded delivery", err)
	}
	if n := strings.Count(r.logs.String(), "the store failed"); n != 1 {
		t.Errorf("the store failure was logged %d times, want once (rate-limited)", n)
	}

	r.out.failWrites.Store(false)
	deadline = time.Now().Add(10 * time.Second)
	for r.statuses(t)["mail-1"] != store.StatusSent {
		if time.Now().After(deadline) {
			t.Fatalf("not resumed 10s after the store recovered: %v", r.statuses(t))
		}
		time.Sleep(10 * time.Millisecond)
	}
	if got := r.statuses(t)["mail-0"]; got != store.StatusSent {
		t.Errorf("the mail delivered during the failure is %q, want sent", got)
	}
	for id, n := range r.copies(t) {
		if n != 1 {
			t.Errorf("%s delivered %d times, want once", id, n)
		}
	}
	if !strings.Contains(r.logs.String(), "the store works again") {
		t.Error("recovery not logged")
	}
	if err := r.sender.Err(); err != nil {
		t.Errorf("Err() = %v after recovery", err)
	}
}

// TestOutboxRunWaitsWhenServerAndStoreFail: with the server refusing
// connections and retries unrecordable, attempts are spaced by the
// backoff too.
func TestOutboxRunWaitsWhenServerAndStoreFail(t *testing.T) {
	r := newFaultRig(t, 100*time.Millisecond, 200*time.Millisecond)
	r.srv.Close()
	r.out.failWrites.Store(true)
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	r.sender.Run(ctx)
	// 100, 200, 200, 200, 200 ms: at most 6 drains of one attempt each.
	if n := r.dlv.n.Load(); n < 1 || n > 7 {
		t.Errorf("%d delivery attempts in 1s, want 1 to 7", n)
	}
}

// TestOutboxFinishWaits: the last drain at shutdown keeps trying to record
// a delivered mail while the store fails, waiting between tries, and
// never sends it again.
func TestOutboxFinishWaits(t *testing.T) {
	r := newFaultRig(t, 100*time.Millisecond, time.Second)
	r.out.failWrites.Store(true)
	if _, err := r.sender.Drain(context.Background()); err == nil {
		t.Fatal("no error on a failing store")
	}
	before := r.out.marks.Load()
	ctx, cancel := context.WithTimeout(context.Background(), 800*time.Millisecond)
	defer cancel()
	_, err := r.sender.Finish(ctx)
	if err == nil || !strings.Contains(err.Error(), "sent again") {
		t.Errorf("Finish = %v, want an error saying the delivery is lost", err)
	}
	// 100, 200, 400 ms: four tries in 0.8 s.
	if n := r.out.marks.Load() - before; n < 2 || n > 6 {
		t.Errorf("Finish made %d tries in 0.8s, want 2 to 6", n)
	}
	if n := r.dlv.n.Load(); n != 1 {
		t.Errorf("%d deliveries, want 1", n)
	}

	// The store recovers within the drain's time: the outcome is written.
	r.out.failWrites.Store(false)
	if _, err := r.sender.Finish(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := r.statuses(t); got["mail-0"] != store.StatusSent || got["mail-1"] != store.StatusSent {
		t.Errorf("statuses = %v", got)
	}
	if n := r.dlv.n.Load(); n != 2 {
		t.Errorf("%d deliveries in all, want 2", n)
	}
}

// TestOutboxUnrecordedSurvivesReload: the sender of the next config
// generation shares Unrecorded, so a reload while the store fails does
// not send the delivered mail again.
func TestOutboxUnrecordedSurvivesReload(t *testing.T) {
	ctx := context.Background()
	r := newFaultRig(t, time.Second, time.Minute)
	r.out.failWrites.Store(true)
	r.sender.Drain(ctx)
	next := NewSender(r.out, r.dlv, time.Second, time.Minute, slog.New(slog.NewTextHandler(r.logs, nil)), nil)
	next.Unrecorded = r.sender.Unrecorded
	if _, err := next.Drain(ctx); err == nil {
		t.Fatal("no error on a failing store")
	}
	r.out.failWrites.Store(false)
	if sent, err := next.Drain(ctx); err != nil || sent != 1 {
		t.Fatalf("drain after recovery: %d, %v; want the other mail", sent, err)
	}
	for id, n := range r.copies(t) {
		if n != 1 {
			t.Errorf("%s delivered %d times, want once", id, n)
		}
	}
	if got := r.statuses(t); got["mail-0"] != store.StatusSent {
		t.Errorf("statuses = %v", got)
	}
}
