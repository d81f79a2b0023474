package daemon

import (
	"runtime"

	"github.com/prometheus/client_golang/prometheus"
)

// daemonMetrics are the daemon's own metrics: its build, config reloads
// and retention purges. The pipeline's are the packages' own.
type daemonMetrics struct {
	reloads               *prometheus.CounterVec
	lastReload, lastPurge prometheus.Gauge
	purged                prometheus.Counter
	// actions counts the action-link requests (issue 21) by action and
	// result: recorded, shown (a GET), refused (bad or expired token,
	// bad CSRF token) or limited (rate limit).
	actions *prometheus.CounterVec
}

// newDaemonMetrics registers the daemon's metrics with reg; version labels
// schoolwatch_build_info.
func newDaemonMetrics(reg prometheus.Registerer, version string) *daemonMetrics {
	bi := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "schoolwatch_build_info", Help: "Always 1; labels carry the version and Go version."}, []string{"version", "goversion"})
	bi.WithLabelValues(version, runtime.Version()).Set(1)
	dm := &daemonMetrics{
		reloads:    prometheus.NewCounterVec(prometheus.CounterOpts{Name: "schoolwatch_config_reloads_total", Help: "Config reloads (SIGHUP) by result: success or failure."}, []string{"result"}),
		lastReload: prometheus.NewGauge(prometheus.GaugeOpts{Name: "schoolwatch_config_last_reload_success_timestamp_seconds", Help: "When the running config was loaded (Unix time)."}),
		lastPurge:  prometheus.NewGauge(prometheus.GaugeOpts{Name: "schoolwatch_store_last_purge_timestamp_seconds", Help: "When old items and mails were last purged (Unix time)."}),
		purged:     prometheus.NewCounter(prometheus.CounterOpts{Name: "schoolwatch_store_purged_rows_total", Help: "Rows removed by retention purges."}),
	}
	dm.actions = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "schoolwatch_alert_actions_total", Help: "Requests to the mails' action links by action (ack, irrelevant, mute, or unknown for a token that did not verify) and result: shown, recorded, refused or limited."}, []string{"action", "result"})
	dm.reloads.WithLabelValues("success")
	dm.reloads.WithLabelValues("failure")
	for _, a := range []string{actAcknowledge, actNotRelevant, actMute} {
		dm.actions.WithLabelValues(a, "recorded")
	}
	reg.MustRegister(bi, dm.reloads, dm.lastReload, dm.lastPurge, dm.purged, dm.actions)
	return dm
}
