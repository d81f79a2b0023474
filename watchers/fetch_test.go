package watchers

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func fetchClass(t *testing.T, f *Fetcher, url string, timeout time.Duration) (*Response, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	r, err := f.Fetch(ctx, url, "", "")
	if err == nil {
		return r, ""
	}
	var fe *FetchError
	if !errors.As(err, &fe) {
		t.Fatalf("error %v is not a *FetchError", err)
	}
	return nil, fe.Class
}

// TestFetchLimits checks that each hostile or broken server is cut off and
// classified, without the client reading what it should not.
func TestFetchLimits(t *testing.T) {
	const max = 1 << 20
	var sent atomic.Int64              // bytes the streaming handlers managed to write (uncompressed)
	streamed := make(chan struct{}, 1) // a streaming handler has returned
	zeros := make([]byte, 32<<10)
	mux := http.NewServeMux()
	mux.HandleFunc("/huge", func(w http.ResponseWriter, r *http.Request) {
		defer func() { streamed <- struct{}{} }()
		w.Header().Set("Content-Type", "application/rss+xml")
		// A "4 GB" feed: bounded, and it stops as soon as the client hangs up.
		for i := 0; i < (4<<30)/len(zeros); i++ {
			n, err := w.Write(zeros)
			sent.Add(int64(n))
			if err != nil {
				return
			}
		}
	})
	mux.HandleFunc("/bomb", func(w http.ResponseWriter, r *http.Request) {
		defer func() { streamed <- struct{}{} }()
		w.Header().Set("Content-Encoding", "gzip")
		zw, _ := gzip.NewWriterLevel(w, gzip.BestCompression)
		for i := 0; i < (4<<30)/len(zeros); i++ {
			n, err := zw.Write(zeros)
			sent.Add(int64(n))
			if err != nil {
				return
			}
		}
		zw.Close()
	})
	mux.HandleFunc("/loop/a", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/loop/b", http.StatusFound) })
	mux.HandleFunc("/loop/b", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/loop/a", http.StatusFound) })
	mux.HandleFunc("/slow-headers", func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() })
	mux.HandleFunc("/slow-body", func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`<?xml version="1.0"?><rss version="2.0"><channel>`))
		w.(http.Flusher).Flush()
		<-r.Context().Done()
	})
	mux.HandleFunc("/html", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.Write([]byte(`<!doctype html><html><body>Moved</body></html>`))
	})
	mux.HandleFunc("/gone", func(w http.ResponseWriter, r *http.Request) { http.Error(w, "gone", http.StatusGone) })
	mux.HandleFunc("/teapot", func(w http.ResponseWriter, r *http.Request) { http.Error(w, "no", http.StatusTeapot) })
	mux.HandleFunc("/broken", func(w http.ResponseWriter, r *http.Request) { http.Error(w, "oops", http.StatusBadGateway) })
	mux.HandleFunc("/bad-gzip", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Encoding", "gzip")
		w.Write([]byte("definitely not gzip"))
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	f := NewFetcher("test")
	f.MaxBody = max

	tests := []struct {
		name, path string
		timeout    time.Duration
		class      string
		maxSent    int64 // the server could not push more than this
	}{
		{"multi-GB stream is cut off", "/huge", 30 * time.Second, ClassTooLarge, 256 << 20},
		{"gzip bomb is cut off after decompression", "/bomb", 30 * time.Second, ClassTooLarge, 256 << 20},
		{"redirect loop", "/loop/a", 10 * time.Second, ClassRedirect, 0},
		{"server that never answers", "/slow-headers", 300 * time.Millisecond, ClassTimeout, 0},
		{"server that stalls mid-body", "/slow-body", 300 * time.Millisecond, ClassTimeout, 0},
		{"404 or 410", "/gone", 10 * time.Second, ClassGone, 0},
		{"other 4xx", "/teapot", 10 * time.Second, ClassHTTP4xx, 0},
		{"5xx", "/broken", 10 * time.Second, ClassHTTP5xx, 0},
		{"corrupt gzip", "/bad-gzip", 10 * time.Second, ClassParse, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sent.Store(0)
			_, class := fetchClass(t, f, srv.URL+tc.path, tc.timeout)
			if class != tc.class {
				t.Fatalf("class = %q, want %q", class, tc.class)
			}
			if tc.maxSent > 0 {
				// The handler stops once its writes fail.
				select {
				case <-streamed:
				case <-time.After(30 * time.Second):
					t.Fatal("the server was still streaming 30s after the client gave up")
				}
				if n := sent.Load(); n > tc.maxSent {
					t.Errorf("server wrote %d MB before the client hung up; want at most %d MB", n>>20, tc.maxSent>>20)
				}
			}
		})
	}

	// An HTML page is fetched fine but is not a feed: parsing says so.
	r, class := fetchClass(t, f, srv.URL+"/html", 10*time.Second)
	if class != "" {
		t.Fatalf("html fetch: %s", class)
	}
	if _, _, err := parse(r, DefaultMaxItems); ErrorClass(err) != ClassNotFeed || !strings.Contains(err.Error(), "text/html") {
		t.Errorf("parse html = %v, want class %s naming the content type", err, ClassNotFeed)
	}
}

// TestFetchHeadersAndGzip checks what a polite client sends, and that a
// gzip-encoded feed arrives decoded.
func TestFetchHeadersAndGzip(t *testing.T) {
	doc := rssDoc(rssItem{GUID: "1", Title: "Hello"})
	var got http.Header
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r.Header.Clone()
		var b bytes.Buffer
		zw := gzip.NewWriter(&b)
		zw.Write([]byte(doc))
		zw.Close()
		w.Header().Set("Content-Encoding", "gzip")
		w.Header().Set("ETag", `"v1"`)
		w.Write(b.Bytes())
	}))
	defer srv.Close()
	f := NewFetcher("schoolwatch/1.0 (+https://example.org/contact)")
	r, err := f.Fetch(context.Background(), srv.URL, `"v0"`, "Wed, 25 Nov 2026 08:00:00 GMT")
	if err != nil {
		t.Fatal(err)
	}
	if string(r.Body) != doc || r.ETag != `"v1"` {
		t.Errorf("body %q etag %q", r.Body, r.ETag)
	}
	for k, want := range map[string]string{
		"User-Agent":        "schoolwatch/1.0 (+https://example.org/contact)",
		"Accept-Encoding":   "gzip",
		"If-None-Match":     `"v0"`,
		"If-Modified-Since": "Wed, 25 Nov 2026 08:00:00 GMT",
	} {
		if got.Get(k) != want {
			t.Errorf("%s = %q, want %q", k, got.Get(k), want)
		}
	}
	if !strings.Contains(got.Get("Accept"), "application/rss+xml") {
		t.Errorf("Accept = %q", got.Get("Accept"))
	}
}

func TestRetryAfter(t *testing.T) {
	now := time.Date(2026, 11, 25, 8, 0, 0, 0, time.UTC)
	tests := []struct {
		name, v string
		want    time.Duration
	}{
		{"seconds", "120", 2 * time.Minute},
		{"http date", "Wed, 25 Nov 2026 08:10:00 GMT", 10 * time.Minute},
		{"date in the past", "Wed, 25 Nov 2026 07:00:00 GMT", 0},
		{"garbage", "soon", 0},
		{"empty", "", 0},
	}
	for _, tc := range tests {
		if got := retryAfter(tc.v, now); got != tc.want {
			t.Errorf("%s: retryAfter(%q) = %v, want %v", tc.name, tc.v, got, tc.want)
		}
	}
}

// TestReadCappedSizeHint: the server's Content-Length sizes the buffer, but
// a wrong one changes nothing about what is read or refused.
func TestReadCappedSizeHint(t *testing.T) {
	body := strings.Repeat("x", 5000)
	for _, tc := range []struct {
		name      string
		hint, max int64
		wantErr   bool
	}{
		{"exact", 5000, 1 << 20, false},
		{"unknown", -1, 1 << 20, false},
		{"too small", 10, 1 << 20, false},
		{"too large", 1 << 20, 1 << 20, false},
		{"a lie", 1 << 34, 1 << 40, false}, // no 16 GiB buffer on a header's word
		{"over the cap", 5000, 4096, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := readCapped(strings.NewReader(body), tc.max, tc.hint)
			if tc.wantErr {
				var fe *FetchError
				if !errors.As(err, &fe) || fe.Class != ClassTooLarge {
					t.Fatalf("err = %v, want %s", err, ClassTooLarge)
				}
				return
			}
			if err != nil || string(got) != body {
				t.Fatalf("read %d bytes, %v; want all %d", len(got), err, len(body))
			}
			limit := 2*max(int64(len(body)), min(tc.hint, maxSizeHint)) + 2*bytes.MinRead
			if c := int64(cap(got)); c > limit {
				t.Errorf("buffer of %d bytes for a %d-byte body (hint %d), want at most %d", c, len(body), tc.hint, limit)
			}
		})
	}
}
