package daemon

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/exporter-toolkit/web"
)

// readiness reports what /readyz checks; nil means ready.
type readiness func(ctx context.Context) error

// serveHTTP serves /metrics, /healthz and /readyz on addr until ctx is done.
// webConfig, if set, is an exporter-toolkit web config file that turns on
// TLS and basic auth, as Prometheus exporters do. It returns once the
// listener is bound (or failed to bind).
//
// iw, if set, adds the incident log (/alerts, /alerts.csv) behind the
// same basic auth, and /act outside it: an action link's token is its
// credential, and a head following one from a phone has no password.
func serveHTTP(ctx context.Context, addr, webConfig string, gath prometheus.Gatherer, ready readiness, log *slog.Logger, iw *incidentWeb) (net.Addr, <-chan error, error) {
	mux := http.NewServeMux()
	if iw != nil {
		mux.HandleFunc("/alerts", iw.alertsPage)
		mux.HandleFunc("/alerts.csv", iw.alertsCSV)
		if iw.plan != nil && iw.reportFn != nil {
			mux.HandleFunc("/report", iw.report)
		}
	}
	mux.Handle("/metrics", promhttp.HandlerFor(gath, promhttp.HandlerOpts{Timeout: 10 * time.Second}))
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("/readyz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
		defer cancel()
		if err := ready(ctx); err != nil {
			http.Error(w, "not ready: "+err.Error(), http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ready")
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" {
			http.NotFound(w, r)
			return
		}
		fmt.Fprintln(w, "schoolwatch: see /metrics, /healthz, /readyz")
	})
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, nil, fmt.Errorf("http.listen %s: %w", addr, err)
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second, WriteTimeout: 30 * time.Second}
	if iw != nil {
		// web.Serve wraps srv.Handler in its basic auth before it accepts
		// the first connection; the listener puts /act in front of it then.
		ln = &publicListener{Listener: ln, srv: srv, public: http.HandlerFunc(iw.act)}
	}
	done := make(chan error, 1)
	go func() {
		err := web.Serve(ln, srv, &web.FlagConfig{WebConfigFile: &webConfig}, log)
		if errors.Is(err, http.ErrServerClosed) {
			err = nil
		}
		done <- err
	}()
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(sctx)
	}()
	log.Info("serving metrics and health", "addr", ln.Addr().String())
	return ln.Addr(), done, nil
}

// publicListener routes /act around the handler web.Serve installed
// (basic auth), at the first Accept: by then web.Serve has installed it,
// and no request has been read.
type publicListener struct {
	net.Listener
	srv    *http.Server
	public http.Handler
	once   sync.Once
}

func (l *publicListener) Accept() (net.Conn, error) {
	l.once.Do(func() {
		authed := l.srv.Handler
		public := l.public
		l.srv.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/act" {
				public.ServeHTTP(w, r)
				return
			}
			authed.ServeHTTP(w, r)
		})
	})
	return l.Listener.Accept()
}
