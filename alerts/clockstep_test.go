package alerts

import (
	"context"
	"testing"
	"time"

	"github.com/schoolwatch/schoolwatch/store"
	"github.com/schoolwatch/schoolwatch/watchers"
)

// TestOutboxRetryAfterClockStepBack: a retry deadline stored by a clock
// that was hours fast (since corrected) does not hold the mail for hours:
// it goes within mail.retry.max. A deadline within retry.max is kept.
func TestOutboxRetryAfterClockStepBack(t *testing.T) {
	ctx := context.Background()
	r := newFaultRig(t, time.Second, 10*time.Minute)
	now := r.clock.t
	r.sender.Now = r.clock.Now
	due, err := r.st.Due(ctx, now, 10)
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

// TestNoticeReminderAfterClockStepBack: a notice log entry "last sent" six
// hours in the future (the clock was fast and has been corrected) is read
// as sent now: the daily reminder comes 24 h later, not 30 h.
func TestNoticeReminderAfterClockStepBack(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	now := time.UnixMilli(time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC).UnixMilli())
	clock := now
	n := &Notifier{Store: st, From: "schoolwatch <alerts@example.org>", To: "ops@example.org", SubjectPrefix: "[schoolwatch]", Host: "test.invalid", Now: func() time.Time { return clock }}
	failing := []FeedHealth{{Feed: watchers.Feed{ID: "f", Name: "Gazette"}, State: store.FeedState{FeedID: "f", FailingSince: now.Add(-2 * time.Hour), ErrorClass: "http_5xx", Failures: 5}, Health: watchers.HealthFailing}}
	if err := st.UpdateFeedNotices(ctx, []store.FeedNotice{{FeedID: "f", Condition: NoticeFailing, Since: now.Add(-2 * time.Hour), LastSent: now.Add(6 * time.Hour)}}, nil); err != nil {
		t.Fatal(err)
	}
	for _, step := range []struct {
		at   time.Duration
		want bool
	}{{0, false}, {23 * time.Hour, false}, {24 * time.Hour, true}} {
		clock = now.Add(step.at)
		sent, err := n.Notify(ctx, failing)
		if err != nil {
			t.Fatal(err)
		}
		if sent != step.want {
			t.Errorf("%v after the step: reminder queued = %v, want %v", step.at, sent, step.want)
		}
	}
}
