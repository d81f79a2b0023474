package daemon

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// demoConfig writes the example config into dir, polling the demo feeds
// over feedBase and keeping its store and mail in dir.
func demoConfig(t *testing.T, dir, feedBase string) string {
	t.Helper()
	b, err := os.ReadFile("../schoolwatch.example.yml")
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	s = strings.Replace(s, "file://examples/feeds/local-news.xml", feedBase+"/local-news.xml", 1)
	s = strings.Replace(s, "file://examples/feeds/community.atom", feedBase+"/community.atom", 1)
	s = strings.Replace(s, "listen: 127.0.0.1:9464", "listen: 127.0.0.1:0", 1)
	path := filepath.Join(dir, "schoolwatch.yml")
	if err := os.WriteFile(path, []byte(s), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestRunInProcess embeds the daemon: it polls, mails the critical demo
// alerts, serves its metrics, reloads on request without a signal, and
// stops cleanly when its context ends.
func TestRunInProcess(t *testing.T) {
	dir := t.TempDir()
	feeds := httptest.NewServer(http.FileServer(http.Dir("../examples/feeds")))
	defer feeds.Close()
	cfg := demoConfig(t, dir, feeds.URL)

	reg := prometheus.NewRegistry()
	reload := make(chan struct{})
	ready := make(chan string, 1)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, Options{ConfigPath: cfg, Registerer: reg, Gatherer: reg, Version: "test", Reload: reload,
			Ready: func(addr string) { ready <- addr }})
	}()
	var addr string
	select {
	case addr = <-ready:
	case err := <-done:
		t.Fatalf("Run returned before it was ready: %v", err)
	case <-time.After(20 * time.Second):
		t.Fatal("daemon not ready")
	}
	if addr == "" {
		t.Fatal("Ready got no address though http.listen is set")
	}
	mailDir := filepath.Join(dir, "var/mail")
	waitFor(t, "the critical alerts", func() bool {
		m, _ := filepath.Glob(filepath.Join(mailDir, "*.eml"))
		return len(m) >= 2
	})
	if v, ok := metricValue(t, reg, "schoolwatch_build_info", "version", "test"); !ok || v != 1 {
		t.Errorf("schoolwatch_build_info{version=test} = %v, %v; want 1 in the caller's registry", v, ok)
	}
	resp, err := http.Get("http://" + addr + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("/readyz = %d, want 200", resp.StatusCode)
	}

	// A reload through the channel, no signal involved.
	b, _ := os.ReadFile(cfg)
	if err := os.WriteFile(cfg, []byte(strings.Replace(string(b), "listen: 127.0.0.1:0", "listen: 127.0.0.1:0\n", 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	reload <- struct{}{}
	waitFor(t, "the reload", func() bool {
		v, _ := metricValue(t, reg, "schoolwatch_config_reloads_total", "result", "success")
		return v == 1
	})

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run after cancel = %v, want nil", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Run did not return after its context ended")
	}
}

// TestRunBadConfig: a broken config fails Run before anything starts, with
// the file named.
func TestRunBadConfig(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "bad.yml")
	if err := os.WriteFile(path, []byte("schools:\n  - id: 1\n    nmae: x\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	err := Run(context.Background(), Options{ConfigPath: path})
	if err == nil || !strings.Contains(err.Error(), "bad.yml") {
		t.Fatalf("Run with a broken config = %v, want an error naming bad.yml", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "var")); err == nil {
		t.Error("a broken config still created the store folder")
	}
}

// metricValue returns the value of the series name{label=value} in reg.
func metricValue(t *testing.T, reg *prometheus.Registry, name, label, value string) (float64, bool) {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == label && l.GetValue() == value {
					if c := m.GetCounter(); c != nil {
						return c.GetValue(), true
					}
					return m.GetGauge().GetValue(), true
				}
			}
		}
	}
	return 0, false
}
