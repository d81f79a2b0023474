package alerts

import (
	"context"
	"testing"
	"time"

	"github.com/schoolwatch/schoolwatch/store"
	"github.com/schoolwatch/schoolwatch/watchers"
)

// TestNoticeReminderAfterClockStepBack: a notice log entry "last sent" six
// hours in the future (the clock was fast and has been corrected) is read
// as sent now: the daily reminder comes 24 h later, not 30 h.
func TestNoticeReminderAfterClockStepBack(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	now := time.UnixMilli(time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC).UnixMilli())
	clock := now
	n := &Notifier{Letterhead: letterheadAt(func() time.Time { return clock }), Store: st, To: "ops@example.org"}
	failing := []FeedHealth{{Feed: watchers.Feed{ID: "f", Name: "Gazette"}, State: store.FeedState{FeedID: "f", FailingSince: now.Add(-2 * time.Hour), ErrorClass: "http_5xx", Failures: 5}, Health: watchers.HealthFailing}}
	if err := st.UpdateFeedNotices(ctx, []store.FeedNotice{{FeedID: "f", Condition: NoticeFailing, Since: now.Add(-2 * time.Hour), LastSent: now.Add(6 * time.Hour)}}, nil); err != nil {
		t.Fatal(err)
	}
	for _, step := range []struct {
		at   time.Duration
		want bool
	}{{0, false}, {23 * time.Hour, false}, {24 * time.Hour, true}} {
		clock = now.Add(step.at)
		sent, err := n.Queue(ctx, failing)
		if err != nil {
			t.Fatal(err)
		}
		if sent != step.want {
			t.Errorf("%v after the step: reminder queued = %v, want %v", step.at, sent, step.want)
		}
	}
}
