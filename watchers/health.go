package watchers

import (
	"time"

	"github.com/schoolwatch/schoolwatch/store"
)

// Health is a feed's condition as an operator sees it. Silence from a feed
// must mean "nothing found", never "something broke", so every feed is in
// exactly one of these states and the failing and quiet ones are reported.
type Health int

const (
	// HealthUnknown: the feed has never been polled successfully.
	HealthUnknown Health = iota
	// HealthOK: the last poll succeeded and the feed is not overdue for news.
	HealthOK
	// HealthFailing: at least the configured number of consecutive polls
	// failed. The feed is still retried on its backoff schedule.
	HealthFailing
	// HealthQuiet: polls succeed but nothing new has arrived for longer
	// than the feed's quiet_after.
	HealthQuiet
)

// DefaultFailuresBeforeNotice is how many consecutive failed polls make a
// feed failing when the caller does not say.
const DefaultFailuresBeforeNotice = 3

// String returns the state's metric label and status column value.
func (h Health) String() string {
	switch h {
	case HealthOK:
		return "ok"
	case HealthFailing:
		return "failing"
	case HealthQuiet:
		return "quiet"
	default:
		return "unknown"
	}
}

// HealthPolicy holds the thresholds that turn a feed's state into a Health.
type HealthPolicy struct {
	// FailuresBeforeNotice consecutive failures make a feed failing; zero
	// or less means DefaultFailuresBeforeNotice.
	FailuresBeforeNotice int
}

// Evaluate classifies a feed from its stored state at now. It is a pure
// function so the thresholds can be table-tested and the evaluator, the
// status command and the metrics agree on one answer.
//
// Failing wins over quiet: a feed that errors is not merely quiet. The quiet
// clock runs from LastNewItem, which the Poller also sets on a feed's first
// successful poll, so a fresh feed is not reported quiet before it has had
// quiet_after to prove itself.
func (p HealthPolicy) Evaluate(st store.FeedState, f Feed, now time.Time) Health {
	n := p.FailuresBeforeNotice
	if n <= 0 {
		n = DefaultFailuresBeforeNotice
	}
	if st.Failures >= n {
		return HealthFailing
	}
	if st.LastSuccess.IsZero() {
		// Never polled, or polled and never once succeeded (but not yet
		// failing): nothing it says can be trusted as "ok".
		return HealthUnknown
	}
	if f.QuietAfter > 0 {
		if since := st.LastNewItem; !since.IsZero() && now.Sub(since) > f.QuietAfter {
			return HealthQuiet
		}
	}
	return HealthOK
}
