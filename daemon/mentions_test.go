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
)

// TestMentionDigest: the demo's PTA film-night post names St Mary's and
// raises nothing else; it reaches St Mary's head (mentions default to daily
// for heads) in the daily digest, and nobody else, and never at once.
func TestMentionDigest(t *testing.T) {
	dir := t.TempDir()
	feeds := httptest.NewServer(http.FileServer(http.Dir("../examples/feeds")))
	defer feeds.Close()
	p, err := Compile(demoConfig(t, dir, feeds.URL), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	svc, err := newService(ctx, p.Config, nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer svc.store.Close()
	g, err := svc.build(p)
	if err != nil {
		t.Fatal(err)
	}
	g.scheduler.PollAll(ctx)
	if _, err := g.grouper.Flush(ctx, time.Now(), true); err != nil {
		t.Fatal(err)
	}
	if _, err := g.sender.Drain(ctx); err != nil {
		t.Fatal(err)
	}
	mailDir := filepath.Join(dir, "var/mail")
	if film := mailsWith(t, mailDir, "Film night"); len(film) != 0 {
		t.Fatalf("the mention went out at once, to %v", film)
	}
	if n, err := g.grouper.Digest(ctx, time.Now()); err != nil || n == 0 {
		t.Fatalf("Digest = %d, %v", n, err)
	}
	if _, err := g.sender.Drain(ctx); err != nil {
		t.Fatal(err)
	}
	film := mailsWith(t, mailDir, "Film night")
	if len(film) != 1 || !strings.Contains(film[0], "head@stmarys.example.org") {
		t.Errorf("the film-night mention reached %v, want only St Mary's head, in the digest", film)
	}
	left, err := svc.store.ListPending(ctx, "digest")
	if err != nil || len(left) != 0 {
		t.Errorf("pending digest rows after the digest: %d, %v", len(left), err)
	}
}

// mailsWith returns the To header of each .eml in dir whose bytes contain s.
func mailsWith(t *testing.T, dir, s string) []string {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(dir, "*.eml"))
	var out []string
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(b), s) {
			for _, l := range strings.Split(string(b), "\r\n") {
				if strings.HasPrefix(l, "To: ") {
					out = append(out, l)
				}
			}
		}
	}
	return out
}
