package main

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Operator conventions (issue 17): --config.file, --web.listen-address,
// their SCHOOLWATCH_ environment variables, the healthcheck subcommand,
// durations in JSON logs and explain --brief, all through Main.

func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// daemonRun is a daemon started through Main ("run ...") in the test.
type daemonRun struct {
	cancel context.CancelFunc
	done   chan int
	stderr bytes.Buffer // read only after stop
}

func startMain(t *testing.T, args ...string) *daemonRun {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	d := &daemonRun{cancel: cancel, done: make(chan int, 1)}
	var out bytes.Buffer
	go func() { d.done <- Main(ctx, args, &out, &d.stderr) }()
	t.Cleanup(func() { d.stop(t) })
	return d
}

// stop ends the daemon and returns its exit code (once; later calls -1).
func (d *daemonRun) stop(t *testing.T) int {
	t.Helper()
	d.cancel()
	select {
	case code, ok := <-d.done:
		if !ok {
			return -1
		}
		close(d.done)
		return code
	case <-time.After(30 * time.Second):
		t.Fatal("the daemon did not stop within 30s of its context ending")
		return -1
	}
}

// waitHealthy polls `schoolwatch healthcheck args...` until it exits 0.
func waitHealthy(t *testing.T, d *daemonRun, args ...string) string {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		out, stderr, code := run(t, append([]string{"healthcheck"}, args...)...)
		if code == 0 {
			return out
		}
		select {
		case c := <-d.done:
			d.done <- c
			t.Fatalf("the daemon exited (%d) before it was healthy; last check: %s", c, stderr)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("healthcheck %v did not pass within 30s; last: exit %d %s", args, code, stderr)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// offConfig is the demo config with http.listen off: only an override can
// serve HTTP.
func offConfig(t *testing.T, dir string) string {
	t.Helper()
	cfg := demoConfig(t, dir, serveDemoFeeds(t).URL, "")
	b, _ := os.ReadFile(cfg)
	s := strings.Replace(string(b), "listen: 127.0.0.1:0", "listen: \"off\"", 1)
	if s == string(b) {
		t.Fatal("demo config has no http.listen to turn off")
	}
	os.WriteFile(cfg, []byte(s), 0o600)
	return cfg
}

func unsetEnv(t *testing.T, keys ...string) {
	t.Helper()
	for _, k := range keys {
		t.Setenv(k, "") // restores the old value at the end
		os.Unsetenv(k)
	}
}

func TestConfigFileFlagAndEnvironment(t *testing.T) {
	unsetEnv(t, envConfigFile)
	good := "../../schoolwatch.example.yml"
	missing := filepath.Join(t.TempDir(), "missing.yml")
	for _, tc := range []struct {
		name string
		env  string
		args []string
		ok   bool
	}{
		{"--config.file", "", []string{"check", "--config.file", good}, true},
		{"--config.file=", "", []string{"check", "--config.file=" + good}, true},
		{"-config.file before the command", "", []string{"-config.file", good, "check"}, true},
		{"-config still works", "", []string{"check", "-config", good}, true},
		{"environment", good, []string{"check"}, true},
		{"flag wins over environment", missing, []string{"check", "--config.file", good}, true},
		{"environment wins over the default", missing, []string{"check"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.env != "" {
				t.Setenv(envConfigFile, tc.env)
			}
			out, stderr, code := run(t, tc.args...)
			if tc.ok && (code != 0 || !strings.Contains(out, good+": OK")) {
				t.Errorf("%v: exit %d, want 0 and %q\n%s%s", tc.args, code, good+": OK", out, stderr)
			}
			if !tc.ok && (code != 1 || !strings.Contains(stderr, "missing.yml")) {
				t.Errorf("%v with %s=%s: exit %d, want 1 naming missing.yml\n%s", tc.args, envConfigFile, tc.env, code, stderr)
			}
		})
	}
}

// TestWebListenAddressOverridesConfig runs the daemon through Main with
// http.listen off: it serves HTTP only where --web.listen-address or
// SCHOOLWATCH_WEB_LISTEN_ADDRESS says, the flag winning; the healthcheck
// subcommand finds it there. The JSON logs carry durations as text.
func TestWebListenAddressOverridesConfig(t *testing.T) {
	unsetEnv(t, envConfigFile, envListenAddress)
	cfg := offConfig(t, t.TempDir())

	flagAddr, envAddr := freePort(t), freePort(t)
	t.Setenv(envListenAddress, envAddr)
	d := startMain(t, "run", "-config", cfg, "-log-format", "json", "--web.listen-address", flagAddr)
	out := waitHealthy(t, d, "--web.listen-address", flagAddr)
	if !strings.Contains(out, "/readyz: ready") {
		t.Errorf("healthcheck output %q, want the /readyz answer", out)
	}
	// The environment's address is not served: the flag won.
	if _, stderr, code := run(t, "healthcheck", "--web.listen-address", envAddr, "-timeout", "2s"); code != 1 {
		t.Errorf("healthcheck at the environment's address %s: exit %d, want 1 (nothing there)\n%s", envAddr, code, stderr)
	}
	// /healthz too, the address coming from the environment this time.
	t.Setenv(envListenAddress, flagAddr)
	if out, stderr, code := run(t, "healthcheck", "-path", "/healthz"); code != 0 || !strings.Contains(out, "/healthz: ok") {
		t.Errorf("healthcheck -path /healthz: exit %d %q %s", code, out, stderr)
	}
	if code := d.stop(t); code != 0 {
		t.Fatalf("run exited %d\n%s", code, d.stderr.String())
	}
	checkJSONDurations(t, d.stderr.String())

	// No flag: the environment's address wins over the config's "off",
	// and the config file comes from the environment too.
	t.Setenv(envListenAddress, envAddr)
	t.Setenv(envConfigFile, cfg)
	d = startMain(t, "run")
	waitHealthy(t, d, "--web.listen-address", envAddr)
	if code := d.stop(t); code != 0 {
		t.Fatalf("run from the environment exited %d\n%s", code, d.stderr.String())
	}
}

// checkJSONDurations finds the shutdown line, which logs the drain
// timeout, and checks every duration-like field is a string.
func checkJSONDurations(t *testing.T, logs string) {
	t.Helper()
	found := false
	for line := range strings.Lines(logs) {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Errorf("log line is not JSON: %v: %s", err, line)
			continue
		}
		if rec["msg"] == "shutting down; draining the outbox" {
			found = true
			if got, ok := rec["timeout"].(string); !ok || got != "20s" {
				t.Errorf("shutdown timeout logged as %#v, want \"20s\": %s", rec["timeout"], line)
			}
		}
	}
	if !found {
		t.Errorf("no shutdown line in the logs:\n%s", logs)
	}
}

func TestLoggerWritesDurationsAsText(t *testing.T) {
	for _, format := range []string{"json", "text"} {
		var b bytes.Buffer
		e := &env{stderr: &b, logLevel: "info", logFormat: format}
		e.logger().Info("poll", "took", 1500*time.Millisecond, slog.Group("retry", "wait", 2*time.Minute), "n", 3)
		got := b.String()
		want := []string{`"took":"1.5s"`, `"retry":{"wait":"2m0s"}`, `"n":3`}
		if format == "text" {
			want = []string{"took=1.5s", "retry.wait=2m0s", "n=3"}
		}
		for _, w := range want {
			if !strings.Contains(got, w) {
				t.Errorf("%s log lacks %s: %s", format, w, got)
			}
		}
	}
}

func TestRunRejectsABadListenAddress(t *testing.T) {
	unsetEnv(t, envListenAddress)
	_, stderr, code := run(t, "run", "-config", "../../schoolwatch.example.yml", "--web.listen-address", "9464")
	if code != 2 || !strings.Contains(stderr, "--web.listen-address") {
		t.Errorf("exit %d, want 2 naming the flag: %s", code, stderr)
	}
}

func TestHealthcheckFailures(t *testing.T) {
	unsetEnv(t, envConfigFile, envListenAddress)
	dir := t.TempDir()
	unready := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "not ready: starting", http.StatusServiceUnavailable)
	}))
	defer unready.Close()
	hang := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-hang:
		}
	}))
	defer slow.Close()
	defer close(hang)
	closed := freePort(t)
	// A config whose http.listen points at the port with nothing behind it.
	cfg := demoConfig(t, dir, "https://feeds.invalid", "")
	b, _ := os.ReadFile(cfg)
	os.WriteFile(cfg, []byte(strings.Replace(string(b), "listen: 127.0.0.1:0", "listen: "+closed, 1)), 0o600)
	off := offConfig(t, t.TempDir())
	zero := demoConfig(t, t.TempDir(), "https://feeds.invalid", "")

	for _, tc := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"not ready", []string{"-url", unready.URL + "/readyz"}, 1, "503 Service Unavailable: not ready: starting"},
		{"no answer in time", []string{"-url", slow.URL + "/readyz", "-timeout", "200ms"}, 1, "deadline exceeded"},
		{"nothing listening (http.listen)", []string{"-config", cfg}, 1, "unhealthy"},
		{"http.listen off", []string{"-config", off}, 1, "http.listen in " + off + " is off"},
		{"port 0", []string{"-config", zero}, 1, "port 0"},
		{"bad flag", []string{"-no-such-flag"}, 2, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, stderr, code := run(t, append([]string{"healthcheck"}, tc.args...)...)
			if code != tc.code || !strings.Contains(stderr, tc.want) {
				t.Errorf("healthcheck %v: exit %d %q, want %d and %q", tc.args, code, stderr, tc.code, tc.want)
			}
		})
	}
}

func TestHealthcheckAddress(t *testing.T) {
	for listen, want := range map[string]string{
		"127.0.0.1:9464": "http://127.0.0.1:9464",
		"0.0.0.0:9464":   "http://127.0.0.1:9464",
		":9464":          "http://127.0.0.1:9464",
		"[::]:9464":      "http://[::1]:9464",
		"10.1.2.3:80":    "http://10.1.2.3:80",
	} {
		e := &env{listenAddress: listen}
		if got, err := e.healthBase(); err != nil || got != want {
			t.Errorf("listen %s: %q, %v; want %q", listen, got, err, want)
		}
	}
}

func TestExplainBrief(t *testing.T) {
	text := "Someone said they are going to hurt kids at St Mary's Folkestone tomorrow. St Mary's parents complained."
	full, stderr, code := run(t, "explain", "-config", "../../schoolwatch.example.yml", text)
	if code != 0 {
		t.Fatalf("explain: exit %d %s", code, stderr)
	}
	brief, stderr, code := run(t, "explain", "--brief", "-config", "../../schoolwatch.example.yml", text)
	if code != 0 {
		t.Fatalf("explain --brief: exit %d %s", code, stderr)
	}
	lines := strings.Split(strings.TrimSuffix(brief, "\n"), "\n")
	if len(lines) > 24 {
		t.Errorf("explain --brief printed %d lines, want a screen (24 at most):\n%s", len(lines), brief)
	}
	if lines[0] != "Findings: 2" {
		t.Errorf("explain --brief starts %q, want the verdict first (Findings: 2)", lines[0])
	}
	for _, want := range []string{
		"school 990001, rule threat (threat, critical):", "[going to hurt]",
		"990001 St Mary's Church of England Primary School (Folkestone) as \"St Mary's Folkestone\"",
		"Rules that fire:", `threat [threat, critical] on "going to hurt"`, `complaint [complaint, normal] on "complained"`,
		"Rules with no match (15): ", "allegation,",
	} {
		if !strings.Contains(brief, want) {
			t.Errorf("explain --brief lacks %q:\n%s", want, brief)
		}
	}
	// The default is today's full report, which tests parse.
	if !strings.HasPrefix(full, "Text: ") || !strings.Contains(full, "Normalised: ") || !strings.Contains(full, "\nFindings: 2\n") {
		t.Errorf("explain without --brief is not the full report:\n%.400s", full)
	}
	if n := strings.Count(full, "\n"); n < 10*len(lines) {
		t.Errorf("the full report has %d lines, the brief %d: is the default still the full one?", n, len(lines))
	}
}
