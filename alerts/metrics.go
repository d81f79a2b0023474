package alerts

import (
	"slices"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/schoolwatch/schoolwatch/mail"
)

// Metrics are the alerts package's Prometheus metrics: findings, the
// alert and digest mails queued, feeds by health, and the notice entries
// and heartbeats queued. A nil *Metrics counts nothing.
type Metrics struct {
	findings, queuedC, notices *prometheus.CounterVec
	feeds                      *prometheus.GaugeVec
}

// NewMetrics registers the alerts metrics with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		findings: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "schoolwatch_findings_total", Help: "Rule matches on new items, by rule, category and severity."}, []string{"rule", "category", "severity"}),
		queuedC:  prometheus.NewCounterVec(prometheus.CounterOpts{Name: "schoolwatch_mails_queued_total", Help: "Mails written to the outbox, by kind."}, []string{"kind"}),
		feeds:    prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "schoolwatch_feeds", Help: "Configured feeds by health state (ok, failing, quiet, unknown = never polled)."}, []string{"state"}),
		notices:  prometheus.NewCounterVec(prometheus.CounterOpts{Name: "schoolwatch_notices_total", Help: "Feed-health notice entries and heartbeats enqueued, by kind."}, []string{"kind"}),
	}
	for _, s := range []string{"ok", "failing", "quiet", "unknown"} {
		m.feeds.WithLabelValues(s)
	}
	for _, k := range []string{NoticeFailing, NoticeQuiet, NoticeReminder, NoticeRecovered, string(mail.KindHeartbeat)} {
		m.notices.WithLabelValues(k)
	}
	if reg != nil {
		reg.MustRegister(m.findings, m.queuedC, m.feeds, m.notices)
	}
	return m
}

// Prepare creates at zero the findings series of every rule in rt (and of
// mentions) and the queued-mail series of every kind, so an alert rule's
// increase() sees the first finding after a start or a reload.
func (m *Metrics) Prepare(rt Routes) {
	if m == nil {
		return
	}
	for _, r := range append(slices.Clone(rt.Rules), MentionRoute) {
		m.findings.WithLabelValues(r.ID, string(r.Category), string(r.Severity))
	}
	for _, k := range mail.Kinds {
		m.queuedC.WithLabelValues(string(k))
	}
}

// Finding counts one rule match.
func (m *Metrics) Finding(rule, category, severity string) {
	if m != nil {
		m.findings.WithLabelValues(rule, category, severity).Inc()
	}
}

func (m *Metrics) queued(kind mail.Kind) {
	if m != nil {
		m.queuedC.WithLabelValues(string(kind)).Inc()
	}
}

// observe sets the feeds gauge from one evaluation of every feed.
func (m *Metrics) observe(feeds []FeedHealth) {
	if m == nil {
		return
	}
	counts := map[string]float64{"ok": 0, "failing": 0, "quiet": 0, "unknown": 0}
	for _, f := range feeds {
		counts[f.Health.String()]++
	}
	for s, n := range counts {
		m.feeds.WithLabelValues(s).Set(n)
	}
}

// notice counts one notice entry or heartbeat.
func (m *Metrics) notice(kind string) {
	if m != nil {
		m.notices.WithLabelValues(kind).Inc()
	}
}
