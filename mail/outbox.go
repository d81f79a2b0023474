package mail

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/schoolwatch/schoolwatch/store"
)

// Outbox is the part of the store the sender works on; *store.Store
// implements it. Its rows are the store's: the sender hands the deliverer
// a Message made from each.
type Outbox interface {
	DueCapped(ctx context.Context, now time.Time, maxDelay time.Duration, limit int) ([]store.Message, error)
	NextDue(ctx context.Context) (time.Time, error)
	MarkSent(ctx context.Context, id int64, now time.Time) error
	MarkRetry(ctx context.Context, id int64, next time.Time, reason string) error
	MarkFailed(ctx context.Context, id int64, reason string) error
	OutboxStats(ctx context.Context) (depth int, oldest time.Time, err error)
}

// Sender drains the outbox: it delivers every due message, marks it sent,
// and on a temporary failure schedules the next attempt with exponential
// backoff; a permanent failure is recorded and not retried.
//
// When the store fails (disk full, read-only, I/O error) at any step, the
// sender stops sending, logs the failure (at most once a minute while it
// lasts), reports it through Err, and tries again after a backoff. A mail
// the server accepted whose outcome could not be recorded stays in
// Unrecorded, is never handed to the deliverer again, and has its outcome
// written before anything else once the store works.
type Sender struct {
	Store     Outbox
	Deliverer Deliverer
	Initial   time.Duration
	Max       time.Duration
	Log       *slog.Logger
	Metrics   *Metrics
	Now       func() time.Time
	// Unrecorded must outlive the sender: share one between the senders
	// of successive config generations, so that a reload while the store
	// fails does not forget what was delivered. NewSender makes a new one.
	Unrecorded *Unrecorded

	wake   chan struct{}
	err    atomic.Pointer[error] // the last drain's store failure; nil once a drain succeeds
	errLog rateLimit             // Run's store-failure lines
}

// NewSender returns a sender with the given backoff. A nil log discards.
func NewSender(st Outbox, d Deliverer, initial, max time.Duration, log *slog.Logger, m *Metrics) *Sender {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Sender{Store: st, Deliverer: d, Initial: initial, Max: max, Log: log, Metrics: m, Unrecorded: NewUnrecorded(), wake: make(chan struct{}, 1)}
}

func (s *Sender) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// Wake asks a running sender to look at the outbox now.
func (s *Sender) Wake() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// Err reports why the sender cannot work (the store failed at its last
// attempt, or delivered mail waits to be recorded), or nil. Readiness
// checks use it.
func (s *Sender) Err() error {
	if n := s.Unrecorded.Len(); n > 0 {
		return fmt.Errorf("outbox: %d delivered mails not yet recorded in the store; sending paused", n)
	}
	if p := s.err.Load(); p != nil {
		return fmt.Errorf("outbox: sending paused: %w", *p)
	}
	return nil
}

// Bounds of the sender's waits.
const (
	minWait      = 50 * time.Millisecond // shortest sleep between drains
	maxIdleWait  = time.Minute           // longest sleep with nothing due
	errorLogGap  = time.Minute           // a lasting store failure is logged once per gap
	storeBackoff = time.Minute           // cap of the wait after a store failure
)

// Run drains the outbox until ctx is done, sleeping until the next message
// is due or Wake is called. After a store failure it waits (exponential
// backoff from Initial, capped at a minute) before it tries again; Wake
// cuts the wait short, since a mail was just written to the store.
func (s *Sender) Run(ctx context.Context) error {
	failures := 0
	for {
		_, err := s.Drain(ctx)
		if ctx.Err() != nil {
			return nil
		}
		var wait time.Duration
		if err != nil {
			failures++
			wait = s.storeWait(failures)
			s.logStoreError(err, wait)
		} else {
			if failures > 0 {
				s.Log.Info("outbox: the store works again; sending resumed", "failed_attempts", failures)
				s.errLog = rateLimit{} // the next failure is news again
			}
			failures = 0
			wait = s.idleWait(ctx)
		}
		// A timer measures on the monotonic clock: a wall clock stepped
		// while it runs changes nothing.
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-s.wake:
			t.Stop()
		case <-t.C:
		}
	}
}

// storeWait is the wait after the failures-th store failure in a row.
func (s *Sender) storeWait(failures int) time.Duration {
	return max(Backoff(failures, s.Initial, min(max(s.Max, s.Initial), storeBackoff)), minWait)
}

// idleWait is how long to sleep until the next message is due: never
// longer than Max, since a stored deadline further away than that was
// set by a clock since stepped back (DueCapped treats it as due).
func (s *Sender) idleWait(ctx context.Context) time.Duration {
	longest := maxIdleWait
	if s.Max > 0 {
		longest = min(longest, s.Max)
	}
	next, err := s.Store.NextDue(ctx)
	if err != nil || next.IsZero() {
		return longest
	}
	return min(max(next.Sub(s.now()), minWait), longest)
}

func (s *Sender) logStoreError(err error, retry time.Duration) {
	if n, ok := s.errLog.allow(time.Now(), errorLogGap); ok {
		s.Log.Error("outbox: the store failed; sending paused until it works again",
			"err", err, "retry_in", retry, "unrecorded", s.Unrecorded.Len(), "repeats", n)
	}
}

// Drain tries every message that is due now, once. It returns how many
// were delivered. It stops at the first store failure and returns it: the
// caller waits before it drains again.
func (s *Sender) Drain(ctx context.Context) (int, error) {
	sent, err := s.drain(ctx)
	if err != nil && ctx.Err() != nil && errors.Is(err, ctx.Err()) {
		err = nil // stopped, not failed
	}
	if err != nil {
		s.err.Store(&err)
	} else {
		s.err.Store(nil)
	}
	s.Metrics.updateOutbox(ctx, s.Store, s.now())
	return sent, err
}

func (s *Sender) drain(ctx context.Context) (int, error) {
	// Outcomes owed to the store go first: until they are written the
	// store is not trusted with more.
	if err := s.recordUnrecorded(ctx); err != nil {
		return 0, err
	}
	sent := 0
	tried := map[int64]bool{} // each message at most once per drain, whatever the store says
	for ctx.Err() == nil {
		due, err := s.Store.DueCapped(ctx, s.now(), s.Max, 50)
		if err != nil {
			return sent, err
		}
		fresh := 0
		for _, m := range due {
			if ctx.Err() != nil {
				break
			}
			if tried[m.ID] || s.Unrecorded.Has(m.ID) {
				continue
			}
			tried[m.ID] = true
			fresh++
			delivered, err := s.attempt(ctx, m)
			if delivered {
				sent++
			}
			if err != nil {
				return sent, err
			}
		}
		if fresh == 0 {
			break
		}
	}
	return sent, nil
}

// attempt delivers m and records the outcome. It returns whether the
// server accepted m, and the store's error if the outcome could not be
// recorded.
func (s *Sender) attempt(ctx context.Context, m store.Message) (bool, error) {
	start := time.Now()
	err := s.Deliverer.Deliver(ctx, message(m))
	s.Metrics.sendDuration(time.Since(start))
	// Record the outcome even when ctx was cancelled mid-send: the mail may
	// have gone, and forgetting that would send it twice.
	bg := context.WithoutCancel(ctx)
	switch {
	case err == nil:
		s.Metrics.result(m.Kind, "sent")
		s.Log.Info("mail sent", "kind", m.Kind, "key", m.Key, "attempt", m.Attempts+1)
		// In memory first: from here on this process never sends m again,
		// whatever the store does.
		o := outcome{key: m.Key, sent: true, at: s.now()}
		s.Unrecorded.add(m.ID, o)
		if err := s.record(bg, m.ID, o); err != nil {
			return true, fmt.Errorf("record mail %s as sent: %w", m.Key, err)
		}
		return true, nil
	case IsPermanent(err):
		s.Metrics.result(m.Kind, "failed")
		s.Log.Error("mail rejected permanently; not retrying", "kind", m.Kind, "key", m.Key, "err", err)
		o := outcome{key: m.Key, reason: err.Error()}
		s.Unrecorded.add(m.ID, o)
		if err := s.record(bg, m.ID, o); err != nil {
			return false, fmt.Errorf("record mail %s as failed: %w", m.Key, err)
		}
		return false, nil
	default:
		next := s.now().Add(Backoff(m.Attempts+1, s.Initial, s.Max))
		s.Metrics.result(m.Kind, "retried")
		s.Log.Warn("mail delivery failed; will retry", "kind", m.Kind, "key", m.Key, "attempt", m.Attempts+1, "next", next.Format(time.RFC3339), "err", err)
		// Nothing to remember if this is lost: the mail is still due, and
		// the drain stops here, so it is not tried again before the wait.
		if err := s.Store.MarkRetry(bg, m.ID, next, err.Error()); err != nil && !errors.Is(err, store.ErrNoMessage) {
			return false, fmt.Errorf("record mail %s for retry: %w", m.Key, err)
		}
		return false, nil
	}
}

// message is the deliverer's view of an outbox row.
func message(m store.Message) Message {
	return Message{Key: m.Key, Kind: Kind(m.Kind), Recipient: m.Recipient, Raw: m.Raw, Created: m.Created}
}

// record writes a final outcome to the store and, once it is there,
// forgets it.
func (s *Sender) record(ctx context.Context, id int64, o outcome) error {
	var err error
	if o.sent {
		err = s.Store.MarkSent(ctx, id, o.at)
	} else {
		err = s.Store.MarkFailed(ctx, id, o.reason)
	}
	if err != nil && !errors.Is(err, store.ErrNoMessage) {
		return err
	}
	s.Unrecorded.remove(id)
	return nil
}

// recordUnrecorded writes every outcome the store could not take before.
func (s *Sender) recordUnrecorded(ctx context.Context) error {
	for id, o := range s.Unrecorded.snapshot() {
		if err := s.record(context.WithoutCancel(ctx), id, o); err != nil {
			return fmt.Errorf("record mail %s as %s: %w", o.key, o.status(), err)
		}
		s.Log.Info("outbox: recorded a delivery outcome the store could not take before", "key", o.key, "status", o.status())
	}
	return nil
}

// Finish is the last drain before the process exits. If the store fails
// while delivered mail waits to be recorded, it keeps trying, with the
// same backoff as Run, until the outcomes are written or ctx ends; the
// outcomes still unrecorded then are lost with the process, and those
// mails will be sent again by the next one (same Message-ID).
func (s *Sender) Finish(ctx context.Context) (int, error) {
	total := 0
	for failures := 1; ; failures++ {
		n, err := s.Drain(ctx)
		total += n
		if err == nil || s.Unrecorded.Len() == 0 {
			return total, err
		}
		t := time.NewTimer(s.storeWait(failures))
		select {
		case <-ctx.Done():
			t.Stop()
			return total, fmt.Errorf("%w; %d delivered mails could not be recorded as such and will be sent again at the next start", err, s.Unrecorded.Len())
		case <-t.C:
		}
	}
}

// Backoff is the delay before the attempt that follows attempts failures:
// initial, doubling, capped at max.
func Backoff(attempts int, initial, max time.Duration) time.Duration {
	d := initial
	for i := 1; i < attempts && d < max; i++ {
		d *= 2
	}
	return min(d, max)
}

// rateLimit lets a repeated message through at most once per gap, and
// counts the ones it held back.
type rateLimit struct {
	last       time.Time
	suppressed int
}

// allow reports whether to log now, and how many were held back since the
// last one that was logged.
func (r *rateLimit) allow(now time.Time, gap time.Duration) (int, bool) {
	if !r.last.IsZero() && now.Sub(r.last) < gap {
		r.suppressed++
		return 0, false
	}
	n := r.suppressed
	r.last, r.suppressed = now, 0
	return n, true
}
