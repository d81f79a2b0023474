package alerts

import (
	"context"
	"log/slog"
	"time"

	"github.com/schoolwatch/schoolwatch/store"
)

// Sender drains the outbox: it delivers every due message, marks it sent,
// and on a temporary failure schedules the next attempt with exponential
// backoff; a permanent failure is recorded and not retried.
type Sender struct {
	Store     *store.Store
	Deliverer Deliverer
	Initial   time.Duration
	Max       time.Duration
	Log       *slog.Logger
	Metrics   *Metrics
	Now       func() time.Time

	wake chan struct{}
}

// NewSender returns a sender with the given backoff.
func NewSender(st *store.Store, d Deliverer, initial, max time.Duration, log *slog.Logger, m *Metrics) *Sender {
	if log == nil {
		log = slog.Default()
	}
	return &Sender{Store: st, Deliverer: d, Initial: initial, Max: max, Log: log, Metrics: m, wake: make(chan struct{}, 1)}
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

// Run drains the outbox until ctx is done, sleeping until the next message
// is due or Wake is called.
func (s *Sender) Run(ctx context.Context) error {
	for {
		if _, err := s.Drain(ctx); err != nil && ctx.Err() == nil {
			s.Log.Error("outbox", "err", err)
		}
		wait := time.Minute
		if next, err := s.Store.NextDue(ctx); err == nil && !next.IsZero() {
			wait = min(max(time.Until(next), 50*time.Millisecond), time.Minute)
		}
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

// Drain tries every message that is due now, once. It returns how many
// were delivered.
func (s *Sender) Drain(ctx context.Context) (int, error) {
	sent := 0
	for ctx.Err() == nil {
		due, err := s.Store.Due(ctx, s.now(), 50)
		if err != nil {
			return sent, err
		}
		if len(due) == 0 {
			break
		}
		for _, m := range due {
			if ctx.Err() != nil {
				break
			}
			if s.attempt(ctx, m) {
				sent++
			}
		}
	}
	s.Metrics.updateOutbox(ctx, s.Store, s.now())
	return sent, nil
}

func (s *Sender) attempt(ctx context.Context, m store.Message) bool {
	start := time.Now()
	err := s.Deliverer.Deliver(ctx, m)
	s.Metrics.sendDuration(time.Since(start))
	// Record the outcome even when ctx was cancelled mid-send: the mail may
	// have gone, and forgetting that would send it twice.
	bg := context.WithoutCancel(ctx)
	switch {
	case err == nil:
		if err := s.Store.MarkSent(bg, m.ID, s.now()); err != nil {
			s.Log.Error("mark sent", "key", m.Key, "err", err)
		}
		s.Metrics.result("sent")
		s.Log.Info("mail sent", "kind", m.Kind, "key", m.Key, "attempt", m.Attempts+1)
		return true
	case IsPermanent(err):
		if err := s.Store.MarkFailed(bg, m.ID, err.Error()); err != nil {
			s.Log.Error("mark failed", "key", m.Key, "err", err)
		}
		s.Metrics.result("failed")
		s.Log.Error("mail rejected permanently; not retrying", "kind", m.Kind, "key", m.Key, "err", err)
	default:
		next := s.now().Add(Backoff(m.Attempts+1, s.Initial, s.Max))
		if err := s.Store.MarkRetry(bg, m.ID, next, err.Error()); err != nil {
			s.Log.Error("mark retry", "key", m.Key, "err", err)
		}
		s.Metrics.result("retried")
		s.Log.Warn("mail delivery failed; will retry", "kind", m.Kind, "key", m.Key, "attempt", m.Attempts+1, "next", next.Format(time.RFC3339), "err", err)
	}
	return false
}
