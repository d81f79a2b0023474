package watchers

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestRedactURL(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"plain", "https://news.example.org/feed.xml", "https://news.example.org/feed.xml"},
		{"query value", "https://x.example/rss?key=SECRET", "https://x.example/rss?key=REDACTED"},
		{"several values", "https://x.example/rss?a=1&key=SECRET;t=2", "https://x.example/rss?a=REDACTED&key=REDACTED&t=REDACTED"},
		{"bare token", "https://x.example/rss?SECRET", "https://x.example/rss?REDACTED"},
		{"empty query", "https://x.example/rss?", "https://x.example/rss?"},
		{"password", "https://bob:SECRET@x.example/rss", "https://x.example/rss"},
		{"user token", "https://SECRET@x.example/rss", "https://x.example/rss"},
		{"at in path is not userinfo", "https://x.example/@bob/rss", "https://x.example/@bob/rss"},
		{"fragment", "https://x.example/rss#SECRET", "https://x.example/rss#REDACTED"},
		{"all", "http://u:SECRET@127.0.0.1:8080/f?key=SECRET&x#SECRET", "http://127.0.0.1:8080/f?key=REDACTED&REDACTED#REDACTED"},
		{"bad escape", "https://x.example/rss?key=%zzSECRET", "https://x.example/rss?key=REDACTED"},
		{"truncated", "https://x.example/rss?key=SEC", "https://x.example/rss?key=REDACTED"},
		{"file", "file:///srv/feeds/a.xml", "file:///srv/feeds/a.xml"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := RedactURL(tc.in); got != tc.want {
				t.Errorf("RedactURL(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestRedactText(t *testing.T) {
	in := `network: Get "http://127.0.0.1:1/feed?key=SECRET": dial tcp 127.0.0.1:1: connect: connection refused; then https://a:SECRET@h.example/x?y=SECRET`
	want := `network: Get "http://127.0.0.1:1/feed?key=REDACTED": dial tcp 127.0.0.1:1: connect: connection refused; then https://h.example/x?y=REDACTED`
	if got := RedactText(in); got != want {
		t.Errorf("RedactText:\n got %s\nwant %s", got, want)
	}
	for _, s := range []string{"no url here: HTTP 500", "what? no", `quoted "?"`} {
		if RedactText(s) != s {
			t.Errorf("RedactText changed %q to %q", s, RedactText(s))
		}
	}
	// A redirect's Location may be relative: Go reports it as it came.
	in = `redirect: Get "/loop?key=SECRET&n=2": stopped after 5 redirects`
	want = `redirect: Get "/loop?key=REDACTED&n=REDACTED": stopped after 5 redirects`
	if got := RedactText(in); got != want {
		t.Errorf("RedactText:\n got %s\nwant %s", got, want)
	}
}

// TestRedactErrorKeepsClass fetches from a refusing address, a throttling
// server and a redirect loop with a key in the URL: the message loses the key, the class and
// Retry-After stay reachable through errors.As.
func TestRedactErrorKeepsClass(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/loop" {
			http.Redirect(w, r, r.URL.String(), http.StatusFound) // relative, with the key
			return
		}
		w.Header().Set("Retry-After", "120")
		w.WriteHeader(http.StatusTooManyRequests)
	}))
	defer srv.Close()
	dead := httptest.NewServer(nil)
	dead.Close()
	f := NewFetcher("test")
	for _, tc := range []struct {
		url, class string
		retry      time.Duration
	}{
		{dead.URL + "/feed?key=SECRETFEEDKEY", ClassNetwork, 0},
		{strings.Replace(srv.URL, "://", "://bob:SECRETFEEDKEY@", 1) + "/feed?key=SECRETFEEDKEY", ClassThrottled, 2 * time.Minute},
		{srv.URL + "/loop?key=SECRETFEEDKEY", ClassRedirect, 0},
	} {
		_, err := f.Fetch(context.Background(), tc.url, "", "")
		if err == nil {
			t.Fatalf("%s: no error", tc.url)
		}
		red := RedactError(err)
		if strings.Contains(red.Error(), "SECRETFEEDKEY") {
			t.Errorf("redacted error still has the key: %v", red)
		}
		if got := ErrorClass(red); got != tc.class {
			t.Errorf("class = %q, want %q (%v)", got, tc.class, red)
		}
		var fe *FetchError
		if !errors.As(red, &fe) || fe.RetryAfter != tc.retry {
			t.Errorf("RetryAfter lost: %v", red)
		}
	}
	if RedactError(nil) != nil {
		t.Error("RedactError(nil) != nil")
	}
}

// TestPollRecordsRedactedError polls a dead feed whose URL carries a key,
// through a Poller with a real store: neither the stored last error nor the
// log line nor the result's text contains it.
func TestPollRecordsRedactedError(t *testing.T) {
	dead := httptest.NewServer(nil)
	dead.Close()
	var logs strings.Builder
	p, _ := newPoller(openStore(t, t.TempDir()), &fakeClock{t: time.Now()})
	p.Log = slog.New(slog.NewTextHandler(&logs, nil))
	f := testFeed("secret", dead.URL+"/feed?key=SECRETFEEDKEY")
	res := p.Poll(context.Background(), f)
	if res.Err == nil {
		t.Fatal("poll of a dead feed succeeded")
	}
	if err := p.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	st, ok, err := p.Store.FeedState(context.Background(), f.ID)
	if err != nil || !ok {
		t.Fatalf("feed state: %v, found %v", err, ok)
	}
	for what, s := range map[string]string{"stored error": st.LastError, "log": logs.String(), "result": res.String()} {
		if strings.Contains(s, "SECRETFEEDKEY") {
			t.Errorf("the %s contains the feed key: %s", what, s)
		}
		if !strings.Contains(s, "key=REDACTED") {
			t.Errorf("the %s lacks the redacted URL: %s", what, s)
		}
	}
	if st.ErrorClass != ClassNetwork {
		t.Errorf("class = %q", st.ErrorClass)
	}
}
