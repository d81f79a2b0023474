package daemon

import (
	"context"
	"image/png"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/schoolwatch/schoolwatch/store"
)

// TestIncidentPagesInChromium renders the action page and the incident log
// in headless Chromium at 390 px, light and dark, and checks that each
// screenshot is 390 px wide and that dark mode turns the page dark. The
// screenshots are kept in $SCHOOLWATCH_SCREENSHOTS when it is set, for a
// person to look at. Without Chromium the test is skipped.
func TestIncidentPagesInChromium(t *testing.T) {
	var browser string
	for _, b := range []string{"chromium", "chromium-browser", "google-chrome", "headless_shell"} {
		if p, err := exec.LookPath(b); err == nil {
			browser = p
			break
		}
	}
	if browser == "" || testing.Short() {
		t.Skip("no headless Chromium on PATH")
	}
	out := os.Getenv("SCHOOLWATCH_SCREENSHOTS")
	if out == "" {
		out = t.TempDir()
	}
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(t.TempDir(), "sw.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	now := time.Now()
	long := "A very long post title that goes on and on about St Mary's Church of England Primary School and what someone said at the gates this morning"
	st.RecordIncidents(ctx, now, []store.Incident{
		{SchoolID: "990001", SchoolName: "St Mary's Church of England Primary School", ItemKey: "k:1", Recipient: "head@stmarys.example.org", Category: "threat", Severity: "critical", Findings: "threat", Title: long, Link: "https://community.example.org/posts/1/with/a/rather/long/path/that/should/wrap"},
		{SchoolID: "990002", SchoolName: "Harbourside Academy", ItemKey: "k:2", Recipient: "head@harbourside.example.org", Category: "complaint", Severity: "normal", Findings: "complaint", Title: "<script>alert(1)</script>", Link: "javascript:alert(1)"},
	})
	st.ActOnIncident(ctx, now, "990002", "k:2", "head@harbourside.example.org", store.StatusNotRelevant, "a parent's joke", time.Time{})
	l := &linker{key: []byte("0123456789abcdef0123456789abcdef"), muteFor: 7 * 24 * time.Hour}
	iw := &incidentWeb{store: st, limiter: newRateLimiter(100, 10), log: slog.New(slog.DiscardHandler), links: func() (*linker, *time.Location) { return l, time.UTC }}
	mux := http.NewServeMux()
	mux.HandleFunc("/act", iw.act)
	mux.HandleFunc("/alerts", iw.alertsPage)
	srv := httptest.NewServer(mux)
	defer srv.Close()
	l.base = srv.URL
	pages := map[string]string{
		"act":    l.links("head@stmarys.example.org", "990001", "k:1", now)[0].URL,
		"alerts": srv.URL + "/alerts",
	}
	for name, u := range pages {
		for _, mode := range []string{"light", "dark"} {
			shot := filepath.Join(out, name+"-"+mode+".png")
			args := []string{"--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--window-size=390,844", "--screenshot=" + shot}
			if mode == "dark" {
				args = append(args, "--force-dark-mode", "--blink-settings=preferredColorScheme=0")
			}
			cctx, cancel := context.WithTimeout(ctx, 60*time.Second)
			cmd := exec.CommandContext(cctx, browser, append(args, u)...)
			cmd.Env = append(os.Environ(), "HOME="+t.TempDir())
			msg, err := cmd.CombinedOutput()
			cancel()
			if err != nil {
				t.Fatalf("%s %s: %v\n%s", name, mode, err, msg)
			}
			f, err := os.Open(shot)
			if err != nil {
				t.Fatal(err)
			}
			img, err := png.Decode(f)
			f.Close()
			if err != nil {
				t.Fatalf("%s: %v", shot, err)
			}
			if w := img.Bounds().Dx(); w != 390 {
				t.Errorf("%s is %d px wide, want 390", shot, w)
			}
			r, g, b, _ := img.At(2, 2).RGBA()
			luma := (299*r + 587*g + 114*b) / 1000 >> 8
			if mode == "dark" && luma > 80 || mode == "light" && luma < 200 {
				t.Errorf("%s: background luma %d, want a %s page", shot, luma, mode)
			}
		}
	}
	// The hostile title is escaped and its javascript: link dropped.
	resp, err := http.Get(srv.URL + "/alerts")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b strings.Builder
	buf := make([]byte, 1<<16)
	for {
		n, err := resp.Body.Read(buf)
		b.Write(buf[:n])
		if err != nil {
			break
		}
	}
	if page := b.String(); !strings.Contains(page, "by head@harbourside.example.org at "+now.UTC().Format("Mon 2 Jan 15:04")) {
		t.Errorf("/alerts does not say who acted when:\n%s", page)
	}
	if page := b.String(); strings.Contains(page, "<script>") || strings.Contains(page, "javascript:") || !strings.Contains(page, "&lt;script&gt;") {
		t.Errorf("/alerts does not escape a hostile title or keeps a javascript: link:\n%s", page)
	}
}
