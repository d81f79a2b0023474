package daemon

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/crypto/bcrypt"
)

func get(t *testing.T, url, user, pass string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	if user != "" {
		req.SetBasicAuth(user, pass)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestHTTPEndpoints(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	reg := prometheus.NewRegistry()
	c := prometheus.NewCounter(prometheus.CounterOpts{Name: "schoolwatch_test_total", Help: "test"})
	reg.MustRegister(c)
	var notReady error = errors.New("scheduler not running")
	addr, _, err := serveHTTP(ctx, "127.0.0.1:0", "", reg, func(context.Context) error { return notReady }, slog.New(slog.NewTextHandler(io.Discard, nil)), nil)
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + addr.String()
	if code, _ := get(t, base+"/healthz", "", ""); code != 200 {
		t.Errorf("/healthz = %d", code)
	}
	if code, body := get(t, base+"/readyz", "", ""); code != 503 || !strings.Contains(body, "scheduler not running") {
		t.Errorf("/readyz while not ready = %d %q", code, body)
	}
	notReady = nil
	if code, _ := get(t, base+"/readyz", "", ""); code != 200 {
		t.Errorf("/readyz when ready = %d", code)
	}
	if code, body := get(t, base+"/metrics", "", ""); code != 200 || !strings.Contains(body, "schoolwatch_test_total 0") {
		t.Errorf("/metrics = %d", code)
	}
}

func TestHTTPBasicAuthFromWebConfig(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	hash, err := bcrypt.GenerateFromPassword([]byte("s3cret"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	webCfg := filepath.Join(t.TempDir(), "web.yml")
	os.WriteFile(webCfg, []byte("basic_auth_users:\n  prometheus: "+string(hash)+"\n"), 0o600)
	addr, _, err := serveHTTP(ctx, "127.0.0.1:0", webCfg, prometheus.NewRegistry(), func(context.Context) error { return nil }, slog.New(slog.NewTextHandler(io.Discard, nil)), nil)
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + addr.String()
	if code, _ := get(t, base+"/metrics", "", ""); code != http.StatusUnauthorized {
		t.Errorf("/metrics without credentials = %d, want 401", code)
	}
	if code, _ := get(t, base+"/metrics", "prometheus", "wrong"); code != http.StatusUnauthorized {
		t.Errorf("/metrics with a wrong password = %d, want 401", code)
	}
	if code, _ := get(t, base+"/metrics", "prometheus", "s3cret"); code != 200 {
		t.Errorf("/metrics with credentials = %d, want 200", code)
	}
}
