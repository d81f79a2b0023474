package watchers

import (
	"errors"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/schoolwatch/schoolwatch/store"
)

// feedSeries counts, per feed label value, the series reg exposes.
func feedSeries(t *testing.T, reg *prometheus.Registry) map[string]int {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	n := map[string]int{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "feed" {
					n[l.GetValue()]++
				}
			}
		}
	}
	return n
}

// TestForgetDeletesEveryFeedSeries registers two feeds, polls them with
// successes and classed failures, and forgets one: none of its series is
// left, and the other feed's are untouched.
func TestForgetDeletesEveryFeedSeries(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := NewMetrics(reg)
	gone, kept := testFeed("gone", "https://x.example/gone"), testFeed("kept", "https://x.example/kept")
	now := time.Now()
	for _, f := range []Feed{gone, kept} {
		m.Register(f, store.FeedState{})
		m.observe(Result{Feed: f}, store.FeedState{LastSuccess: now})
		m.observe(Result{Feed: f, Err: &FetchError{Class: ClassNetwork, Err: errors.New("refused")}}, store.FeedState{LastSuccess: now, Failures: 1})
		m.observe(Result{Feed: f, Err: &FetchError{Class: ClassGone, Err: errors.New("HTTP 404")}}, store.FeedState{LastSuccess: now, Failures: 2})
		m.truncated(f.ID)
		m.repaired(f.ID, map[string]int{"utf8": 1})
	}
	before := feedSeries(t, reg)
	// polls_total ok, error/network, error/gone; last success; failures;
	// interval; items truncated; repairs.
	if before["gone"] != 8 || before["kept"] != 8 {
		t.Fatalf("series before = %v, want 8 per feed", before)
	}
	m.Forget("gone")
	after := feedSeries(t, reg)
	if after["gone"] != 0 {
		t.Errorf("%d series of the forgotten feed remain", after["gone"])
	}
	if after["kept"] != before["kept"] {
		t.Errorf("the kept feed has %d series, had %d", after["kept"], before["kept"])
	}
	var nilMetrics *Metrics
	nilMetrics.Forget("gone") // the once command runs without metrics
}
