package watchers

import (
	"time"

	"github.com/robfig/cron/v3"
)

// Feed is one concrete source to poll. A per_school feed in the config
// becomes one Feed per school, with ID "feedid/schoolid".
type Feed struct {
	ID   string
	Name string
	// Stream is set for a stream (a Bluesky Jetstream subscription): it is
	// followed continuously by a Stream, never polled.
	Stream bool
	URL    string
	// Schedule is when the feed is polled (nil for a stream), parsed once
	// when the config loaded.
	Schedule   cron.Schedule
	Timeout    time.Duration
	MaxItemAge time.Duration
	QuietAfter time.Duration
	// MaxItems caps the entries read from one document (0: DefaultMaxItems).
	MaxItems int
	// SchoolID is set for feeds expanded from a per_school template: the
	// school whose name the query searched for.
	SchoolID string
}

// DefaultMaxItems is the cap on the entries read from one document when a
// Feed does not set one (config applies the same default to every feed,
// and a daemon test ties the two).
const DefaultMaxItems = 1000

// Streamed reports whether the feed is a stream: it is followed
// continuously by a Stream, never polled.
func (f Feed) Streamed() bool { return f.Stream }

func (f Feed) maxItems() int {
	if f.MaxItems > 0 {
		return f.MaxItems
	}
	return DefaultMaxItems
}
