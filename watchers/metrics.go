package watchers

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/schoolwatch/schoolwatch/store"
)

// Metrics are the watchers' Prometheus metrics. Labels are bounded: feed
// ids come from the config, results and classes from fixed lists.
type Metrics struct {
	polls       *prometheus.CounterVec
	duration    *prometheus.HistogramVec
	items       *prometheus.CounterVec
	lastSuccess *prometheus.GaugeVec
	failures    *prometheus.GaugeVec
	interval    *prometheus.GaugeVec
	truncations *prometheus.CounterVec
	repairs     *prometheus.CounterVec
	stream      *prometheus.CounterVec
}

// NewMetrics registers the watchers' metrics with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		polls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "schoolwatch_polls_total",
			Help: "Feed polls by result: ok, not_modified, or error.",
		}, []string{"feed", "result", "class"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "schoolwatch_poll_duration_seconds",
			Help:    "Time to fetch, parse and record one feed.",
			Buckets: []float64{.01, .05, .1, .25, .5, 1, 2.5, 5, 10, 20, 30, 60},
		}, []string{"result"}),
		items: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "schoolwatch_items_total",
			Help: "Feed items by outcome: new, duplicate (seen before), too_old (new but older than max_item_age).",
		}, []string{"outcome"}),
		lastSuccess: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "schoolwatch_feed_last_success_timestamp_seconds",
			Help: "When each feed was last polled successfully (Unix time).",
		}, []string{"feed"}),
		failures: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "schoolwatch_feed_consecutive_failures",
			Help: "Consecutive failed polls of each feed.",
		}, []string{"feed"}),
	}
	m.interval = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "schoolwatch_feed_poll_interval_seconds",
		Help: "Each feed's expected time between polls, from its schedule; staleness alerts compare against it.",
	}, []string{"feed"})
	m.truncations = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "schoolwatch_feed_items_truncated_total",
		Help: "Polls whose document held more entries than the feed's max_items; only the first were read.",
	}, []string{"feed"})
	m.repairs = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "schoolwatch_feed_repairs_total",
		Help: "Polls whose document was parsed only after a repair, by kind: invalid_utf8, control_char, char_ref, json_field, json_item.",
	}, []string{"feed", "kind"})
	m.stream = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "schoolwatch_stream_events_total",
		Help: "Events read from stream feeds (type jetstream), by kind: post, other (other records, deletes, identity and account events), invalid.",
	}, []string{"feed", "kind"})
	if reg != nil {
		reg.MustRegister(m.polls, m.duration, m.items, m.lastSuccess, m.failures, m.interval, m.truncations, m.repairs, m.stream)
	}
	for _, o := range []string{"new", "duplicate", "too_old"} {
		m.items.WithLabelValues(o)
	}
	return m
}

// Register makes a feed's series exist before its first poll, so a
// dashboard shows every configured feed at once.
func (m *Metrics) Register(f Feed, st store.FeedState) {
	if m == nil {
		return
	}
	m.polls.WithLabelValues(f.ID, "ok", "")
	g := m.lastSuccess.WithLabelValues(f.ID)
	if !st.LastSuccess.IsZero() {
		g.Set(float64(st.LastSuccess.Unix()))
	}
	m.failures.WithLabelValues(f.ID).Set(float64(st.Failures))
	m.truncations.WithLabelValues(f.ID)
	if f.Schedule != nil {
		next := f.Schedule.Next(time.Now())
		m.interval.WithLabelValues(f.ID).Set(f.Schedule.Next(next).Sub(next).Seconds())
	}
}

// Forget deletes every series of the feed with this id, for a feed a
// reload removed: a series left behind keeps its last value, and alerts
// such as SchoolwatchFeedStale would fire for a feed that no longer exists.
// Call it once nothing polls the feed any more.
func (m *Metrics) Forget(feedID string) {
	if m == nil {
		return
	}
	l := prometheus.Labels{"feed": feedID}
	// Every vector with a feed label belongs here.
	for _, v := range []interface {
		DeletePartialMatch(prometheus.Labels) int
	}{m.polls, m.lastSuccess, m.failures, m.interval, m.truncations, m.repairs, m.stream} {
		v.DeletePartialMatch(l)
	}
}

func (m *Metrics) observe(r Result, st store.FeedState) {
	if m == nil {
		return
	}
	result, class := "ok", ""
	switch {
	case r.Err != nil:
		result, class = "error", ErrorClass(r.Err)
	case r.NotModified:
		result = "not_modified"
	}
	m.polls.WithLabelValues(r.Feed.ID, result, class).Inc()
	m.duration.WithLabelValues(result).Observe(r.Duration.Seconds())
	m.items.WithLabelValues("new").Add(float64(r.New - r.TooOld))
	m.items.WithLabelValues("too_old").Add(float64(r.TooOld))
	m.items.WithLabelValues("duplicate").Add(float64(r.Items - r.New))
	if r.Err == nil {
		m.lastSuccess.WithLabelValues(r.Feed.ID).Set(float64(st.LastSuccess.Unix()))
	}
	m.failures.WithLabelValues(r.Feed.ID).Set(float64(st.Failures))
}

func (m *Metrics) truncated(feed string) {
	if m == nil {
		return
	}
	m.truncations.WithLabelValues(feed).Inc()
}

func (m *Metrics) repaired(feed string, repairs map[string]int) {
	if m == nil {
		return
	}
	for kind := range repairs {
		m.repairs.WithLabelValues(feed, kind).Inc()
	}
}

// streamCounters are one stream feed's event counters, resolved once per
// connection rather than once per event.
type streamCounters struct {
	post, other, invalid prometheus.Counter
}

func (m *Metrics) streamCounters(feed string) streamCounters {
	if m == nil {
		return streamCounters{}
	}
	return streamCounters{
		post:    m.stream.WithLabelValues(feed, StreamPost),
		other:   m.stream.WithLabelValues(feed, StreamOther),
		invalid: m.stream.WithLabelValues(feed, StreamInvalid),
	}
}

func (c streamCounters) inc(kind string) {
	var k prometheus.Counter
	switch kind {
	case StreamPost:
		k = c.post
	case StreamOther:
		k = c.other
	default:
		k = c.invalid
	}
	if k != nil {
		k.Inc()
	}
}

// streamed counts what the Sink made of a stream's batch.
func (m *Metrics) streamed(r Result) {
	if m == nil {
		return
	}
	m.items.WithLabelValues("new").Add(float64(r.New - r.TooOld))
	m.items.WithLabelValues("too_old").Add(float64(r.TooOld))
	m.items.WithLabelValues("duplicate").Add(float64(r.Items - r.New))
}

// streamOK records a stream working: a connection that delivered events
// counts as one successful poll (first), and each batch moves the feed's
// last success.
func (m *Metrics) streamOK(feed string, st store.FeedState, first bool) {
	if m == nil {
		return
	}
	if first {
		m.polls.WithLabelValues(feed, "ok", "").Inc()
	}
	m.lastSuccess.WithLabelValues(feed).Set(float64(st.LastSuccess.Unix()))
	m.failures.WithLabelValues(feed).Set(0)
}
