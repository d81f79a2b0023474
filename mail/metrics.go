package mail

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the outbox sender's Prometheus metrics. A nil *Metrics
// counts nothing.
type Metrics struct {
	results    *prometheus.CounterVec // deprecated name, kept for one release
	deliveries *prometheus.CounterVec
	depth      prometheus.Gauge
	oldest     prometheus.Gauge
	sendDur    prometheus.Histogram
}

// NewMetrics registers the sender's metrics with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		results:    prometheus.NewCounterVec(prometheus.CounterOpts{Name: "schoolwatch_alerts_total", Help: "Deprecated: use schoolwatch_mail_deliveries_total. Outbox delivery attempts of every kind of mail by result: sent, failed (permanent), retried (temporary failure)."}, []string{"result"}),
		deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "schoolwatch_mail_deliveries_total", Help: "Outbox delivery attempts by kind of mail (alert, digest, notice, heartbeat, test) and result: sent, failed (permanent), retried (temporary failure)."}, []string{"kind", "result"}),
		depth:      prometheus.NewGauge(prometheus.GaugeOpts{Name: "schoolwatch_outbox_depth", Help: "Mails waiting in the outbox."}),
		oldest:     prometheus.NewGauge(prometheus.GaugeOpts{Name: "schoolwatch_outbox_oldest_age_seconds", Help: "Age of the oldest mail waiting in the outbox (0 when empty)."}),
		sendDur: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "schoolwatch_smtp_send_duration_seconds", Help: "Time to hand one mail to the SMTP server (or write it to a file).",
			Buckets: []float64{.005, .01, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}),
	}
	for _, r := range []string{"sent", "failed", "retried"} {
		m.results.WithLabelValues(r)
		for _, k := range Kinds {
			m.deliveries.WithLabelValues(string(k), r)
		}
	}
	if reg != nil {
		reg.MustRegister(m.results, m.deliveries, m.depth, m.oldest, m.sendDur)
	}
	return m
}

func (m *Metrics) result(kind, r string) {
	if m != nil {
		m.results.WithLabelValues(r).Inc()
		m.deliveries.WithLabelValues(kind, r).Inc()
	}
}

func (m *Metrics) sendDuration(d time.Duration) {
	if m != nil {
		m.sendDur.Observe(d.Seconds())
	}
}

func (m *Metrics) updateOutbox(ctx context.Context, st Outbox, now time.Time) {
	if m == nil {
		return
	}
	depth, oldest, err := st.OutboxStats(ctx)
	if err != nil {
		return
	}
	m.depth.Set(float64(depth))
	if oldest.IsZero() {
		m.oldest.Set(0)
	} else {
		m.oldest.Set(now.Sub(oldest).Seconds())
	}
}
