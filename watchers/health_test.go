package watchers

import (
	"testing"
	"time"

	"github.com/schoolwatch/schoolwatch/store"
)

func TestHealthEvaluate(t *testing.T) {
	now := time.Date(2026, 11, 25, 8, 0, 0, 0, time.UTC)
	week := 7 * 24 * time.Hour
	feed := Feed{ID: "f", QuietAfter: week}
	ok := store.FeedState{FeedID: "f", LastPoll: now, LastSuccess: now, LastNewItem: now.Add(-time.Hour)}
	tests := []struct {
		name   string
		st     store.FeedState
		feed   Feed
		policy HealthPolicy
		want   Health
	}{
		{"never polled", store.FeedState{FeedID: "f"}, feed, HealthPolicy{}, HealthUnknown},
		{"polled, never succeeded, not yet failing", store.FeedState{FeedID: "f", LastPoll: now, Failures: 1}, feed, HealthPolicy{}, HealthUnknown},
		{"polled, never succeeded, failing", store.FeedState{FeedID: "f", LastPoll: now, Failures: 3}, feed, HealthPolicy{}, HealthFailing},
		{"healthy", ok, feed, HealthPolicy{}, HealthOK},
		{"two failures is not yet failing", withState(ok, func(s *store.FeedState) { s.Failures = 2 }), feed, HealthPolicy{}, HealthOK},
		{"three failures is failing by default", withState(ok, func(s *store.FeedState) { s.Failures = 3 }), feed, HealthPolicy{}, HealthFailing},
		{"custom threshold", withState(ok, func(s *store.FeedState) { s.Failures = 1 }), feed, HealthPolicy{FailuresBeforeNotice: 1}, HealthFailing},
		{"failing before any success", store.FeedState{FeedID: "f", LastPoll: now, Failures: 5}, feed, HealthPolicy{}, HealthFailing},
		{"quiet at exactly quiet_after is still ok", withState(ok, func(s *store.FeedState) { s.LastNewItem = now.Add(-week) }), feed, HealthPolicy{}, HealthOK},
		{"quiet past quiet_after", withState(ok, func(s *store.FeedState) { s.LastNewItem = now.Add(-week - time.Second) }), feed, HealthPolicy{}, HealthQuiet},
		{"quiet_after 0 disables", withState(ok, func(s *store.FeedState) { s.LastNewItem = now.Add(-100 * week) }), Feed{ID: "f"}, HealthPolicy{}, HealthOK},
		{"failing wins over quiet", withState(ok, func(s *store.FeedState) { s.LastNewItem = now.Add(-2 * week); s.Failures = 3 }), feed, HealthPolicy{}, HealthFailing},
		{"no new-item time is never quiet", withState(ok, func(s *store.FeedState) { s.LastNewItem = time.Time{} }), feed, HealthPolicy{}, HealthOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.policy.Evaluate(tt.st, tt.feed, now); got != tt.want {
				t.Errorf("Evaluate = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestHealthString(t *testing.T) {
	for h, want := range map[Health]string{HealthUnknown: "unknown", HealthOK: "ok", HealthFailing: "failing", HealthQuiet: "quiet"} {
		if h.String() != want {
			t.Errorf("%d.String() = %q, want %q", h, h.String(), want)
		}
	}
}

func withState(st store.FeedState, f func(*store.FeedState)) store.FeedState {
	f(&st)
	return st
}
