package daemon

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/crypto/bcrypt"

	"github.com/schoolwatch/schoolwatch/config"
	"github.com/schoolwatch/schoolwatch/store"
)

// TestLinkTokens: a token verifies with its key until it expires; a token
// with a changed claim, a changed signature, another key or an unknown
// action does not; the CSRF token of one link does not pass for another.
func TestLinkTokens(t *testing.T) {
	l := &linker{key: []byte("0123456789abcdef0123456789abcdef"), base: "https://sw.example.org", muteFor: 7 * 24 * time.Hour}
	now := time.Date(2026, 11, 30, 7, 0, 0, 0, time.UTC)
	links := l.links("head@example.org", "118123", "k:1", now)
	if len(links) != 3 || links[0].Text != "Acknowledge" || links[1].Text != "Not relevant" || links[2].Text != "Mute this thread for 7 days" {
		t.Fatalf("links = %+v", links)
	}
	u, _ := url.Parse(links[0].URL)
	tok := u.Query().Get("t")
	c, err := l.verify(tok, now.Add(29*24*time.Hour))
	if err != nil || c.Action != actAcknowledge || c.School != "118123" || c.Item != "k:1" || c.Recipient != "head@example.org" {
		t.Fatalf("verify = %+v, %v", c, err)
	}
	if _, err := l.verify(tok, now.Add(linkTTL)); err == nil || !strings.Contains(err.Error(), "expired") {
		t.Errorf("a token at its expiry verifies: %v", err)
	}
	other := &linker{key: []byte("another key, also 32 bytes long!")}
	if _, err := other.verify(tok, now); err == nil {
		t.Error("a token verifies under another key")
	}
	body, sig, _ := strings.Cut(tok, ".")
	forged := l.token(linkClaims{School: "999999", Item: "k:1", Recipient: "head@example.org", Action: actAcknowledge, Expires: now.Add(time.Hour).Unix()})
	fbody, _, _ := strings.Cut(forged, ".")
	for name, bad := range map[string]string{
		"another school's claims under this signature": fbody + "." + sig,
		"a cut signature":   body + "." + sig[:len(sig)-2],
		"no signature":      body,
		"an empty token":    "",
		"an unknown action": other.token(linkClaims{Action: "delete", Expires: now.Add(time.Hour).Unix()}),
	} {
		if _, err := l.verify(bad, now); err == nil {
			t.Errorf("%s verifies", name)
		}
	}
	if unknown := l.token(linkClaims{Action: "delete", Expires: now.Add(time.Hour).Unix()}); true {
		if _, err := l.verify(unknown, now); err == nil {
			t.Error("a signed token with an unknown action verifies")
		}
	}
	u2, _ := url.Parse(links[1].URL)
	if l.checkCSRF(u2.Query().Get("t"), l.csrf(tok)) || !l.checkCSRF(tok, l.csrf(tok)) {
		t.Error("a CSRF token is not bound to its link")
	}
	if got := muteText(24 * time.Hour); got != "Mute this thread for 1 day" {
		t.Errorf("muteText(24h) = %q", got)
	}
}

// TestRateLimiter: a burst passes, the next request is refused, and the
// bucket refills with time; another address has its own bucket.
func TestRateLimiter(t *testing.T) {
	rl := newRateLimiter(3, 1)
	now := time.Unix(1000, 0)
	for i := range 3 {
		if !rl.allow("192.0.2.1", now) {
			t.Fatalf("request %d of the burst refused", i+1)
		}
	}
	if rl.allow("192.0.2.1", now) {
		t.Error("the request after the burst passed")
	}
	if !rl.allow("192.0.2.2", now) {
		t.Error("another address was refused")
	}
	if !rl.allow("192.0.2.1", now.Add(1100*time.Millisecond)) {
		t.Error("the bucket did not refill")
	}
}

// TestActOutsideBasicAuth: with basic auth in the web config, /alerts and
// /alerts.csv need the password, /act does not (its token is the
// credential, and refuses a bad one with 403), and /metrics still does.
// The action endpoint is rate-limited per address.
func TestActOutsideBasicAuth(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	hash, _ := bcrypt.GenerateFromPassword([]byte("s3cret"), bcrypt.MinCost)
	dir := t.TempDir()
	webCfg := filepath.Join(dir, "web.yml")
	os.WriteFile(webCfg, []byte("basic_auth_users:\n  la: "+string(hash)+"\n"), 0o600)
	st, err := store.Open(ctx, filepath.Join(dir, "sw.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	now := time.Now()
	if err := st.RecordIncidents(ctx, now, []store.Incident{{SchoolID: "118123", SchoolName: "St Mary's", ItemKey: "k:1", Recipient: "head@example.org", Category: "threat", Severity: "critical", Title: "A post", Link: "https://news.example/1"}}); err != nil {
		t.Fatal(err)
	}
	l := &linker{key: []byte("0123456789abcdef0123456789abcdef"), base: "https://sw.example.org", muteFor: time.Hour}
	iw := &incidentWeb{store: st, limiter: newRateLimiter(5, 0.001), log: slog.New(slog.DiscardHandler),
		links: func() (*linker, *time.Location) { return l, time.UTC }}
	addr, _, err := serveHTTP(ctx, "127.0.0.1:0", webCfg, prometheus.NewRegistry(), func(context.Context) error { return nil }, slog.New(slog.NewTextHandler(io.Discard, nil)), iw)
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + addr.String()
	for _, p := range []string{"/alerts", "/alerts.csv", "/metrics"} {
		if code, _ := get(t, base+p, "", ""); code != http.StatusUnauthorized {
			t.Errorf("%s without credentials = %d, want 401", p, code)
		}
	}
	if code, body := get(t, base+"/alerts", "la", "s3cret"); code != 200 || !strings.Contains(body, "St Mary&#39;s") {
		t.Errorf("/alerts with credentials = %d %q", code, body)
	}
	links := l.links("head@example.org", "118123", "k:1", now)
	act := base + strings.TrimPrefix(links[2].URL, l.base)
	if code, body := get(t, act, "", ""); code != 200 || !strings.Contains(body, "Mute this thread for 1 hour") && !strings.Contains(body, "Mute this thread for 1h0m0s") {
		t.Errorf("GET /act without credentials = %d %q", code, body)
	}
	if code, _ := get(t, base+"/act?t=x.y", "", ""); code != http.StatusForbidden {
		t.Errorf("GET /act with a bad token = %d, want 403", code)
	}
	limited := false
	for range 10 {
		if code, _ := get(t, act, "", ""); code == http.StatusTooManyRequests {
			limited = true
			break
		}
	}
	if !limited {
		t.Error("10 more requests from one address were never rate-limited")
	}
}

// TestMuteSuppressesAlerts: a muted post alerts nobody at its school until
// the mute ends; another school is not muted.
func TestMuteSuppressesAlerts(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(t.TempDir(), "sw.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	now := time.Now()
	st.RecordIncidents(ctx, now, []store.Incident{{SchoolID: "1", ItemKey: "k:1", Recipient: "head@example.org", Link: "https://x.example/1"}})
	if err := st.ActOnIncident(ctx, now, "1", "k:1", "head@example.org", store.StatusMuted, "", now.Add(7*24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		school, key, link string
		at                time.Time
		want              bool
	}{
		{"1", "k:1", "", now.Add(time.Hour), true},
		{"1", "k:2", "https://x.example/1", now.Add(time.Hour), true},
		{"1", "k:2", "https://x.example/2", now.Add(time.Hour), false},
		{"2", "k:1", "", now.Add(time.Hour), false},
		{"1", "k:1", "", now.Add(8 * 24 * time.Hour), false},
	} {
		if got, err := st.Muted(ctx, c.at, c.school, c.key, c.link); err != nil || got != c.want {
			t.Errorf("Muted(%s, %s, %s) = %v, %v; want %v", c.school, c.key, c.link, got, err, c.want)
		}
	}
	if err := st.ActOnIncident(ctx, now, "1", "k:9", "head@example.org", store.StatusAcknowledged, "", time.Time{}); !errors.Is(err, store.ErrNoIncident) {
		t.Errorf("acting on an alert never mailed = %v, want ErrNoIncident", err)
	}
}

// TestLinkKeyFile: http.link_key_file supplies the key (trimmed); a short
// one is refused; without it the store's key is used, the same each time.
func TestLinkKeyFile(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	st, err := store.Open(ctx, filepath.Join(dir, "sw.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	cfg := &config.Config{}
	k1, err := linkKey(ctx, cfg, st)
	if err != nil || len(k1) != 32 {
		t.Fatalf("the store's key = %x, %v", k1, err)
	}
	if k2, _ := linkKey(ctx, cfg, st); !bytes.Equal(k1, k2) {
		t.Error("the store's key changed")
	}
	path := filepath.Join(dir, "link.key")
	os.WriteFile(path, []byte("  a key of at least sixteen bytes\n"), 0o600)
	cfg.HTTP.LinkKeyFile = path
	k, err := linkKey(ctx, cfg, st)
	if err != nil || string(k) != "a key of at least sixteen bytes" {
		t.Errorf("the file's key = %q, %v", k, err)
	}
	os.WriteFile(path, []byte("short\n"), 0o600)
	if _, err := linkKey(ctx, cfg, st); err == nil || !strings.Contains(err.Error(), "http.link_key_file") {
		t.Errorf("a short key file = %v, want an error naming http.link_key_file", err)
	}
}
