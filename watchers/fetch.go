package watchers

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/schoolwatch/schoolwatch/config"
)

// MaxBodySize caps a feed document; anything larger is cut off and reported.
const MaxBodySize = 10 << 20

// Error classes, used as bounded metric label values and in notices.
const (
	ClassTimeout    = "timeout"
	ClassNetwork    = "network"
	ClassTLS        = "tls"
	ClassHTTP4xx    = "http_4xx"
	ClassThrottled  = "throttled"
	ClassHTTP5xx    = "http_5xx"
	ClassTooLarge   = "too_large"
	ClassParse      = "parse"
	ClassFile       = "file"
	ClassStore      = "store"
	ClassBadRequest = "bad_request"
)

// FetchError is a classified polling failure.
type FetchError struct {
	Class string
	// RetryAfter is what the server asked for with 429 or 503, if anything.
	RetryAfter time.Duration
	Err        error
}

func (e *FetchError) Error() string { return e.Class + ": " + e.Err.Error() }
func (e *FetchError) Unwrap() error { return e.Err }

// ErrorClass returns the class of a polling error ("" for nil).
func ErrorClass(err error) string {
	if err == nil {
		return ""
	}
	var fe *FetchError
	if errors.As(err, &fe) {
		return fe.Class
	}
	return ClassNetwork
}

// Response is a fetched feed document.
type Response struct {
	NotModified  bool
	Body         []byte
	ETag         string
	LastModified string
}

// Fetcher gets feed documents over HTTP(S) or from files.
type Fetcher struct {
	Client    *http.Client
	UserAgent string
	MaxBody   int64
}

// NewFetcher returns a Fetcher with sane limits.
func NewFetcher(userAgent string) *Fetcher {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 4
	tr.ResponseHeaderTimeout = 30 * time.Second
	return &Fetcher{
		Client: &http.Client{
			Transport: tr,
			CheckRedirect: func(req *http.Request, via []*http.Request) error {
				if len(via) >= 5 {
					return errors.New("stopped after 5 redirects")
				}
				return nil
			},
		},
		UserAgent: userAgent,
		MaxBody:   MaxBodySize,
	}
}

// Fetch gets url, sending the validators from a previous response.
func (f *Fetcher) Fetch(ctx context.Context, rawURL, etag, lastModified string) (*Response, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, &FetchError{Class: ClassBadRequest, Err: err}
	}
	if u.Scheme == "file" {
		return f.fetchFile(u)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return nil, &FetchError{Class: ClassBadRequest, Err: err}
	}
	req.Header.Set("User-Agent", f.UserAgent)
	req.Header.Set("Accept", "application/rss+xml, application/atom+xml, application/feed+json, application/json;q=0.9, application/xml;q=0.9, text/xml;q=0.8, */*;q=0.5")
	if etag != "" {
		req.Header.Set("If-None-Match", etag)
	}
	if lastModified != "" {
		req.Header.Set("If-Modified-Since", lastModified)
	}
	resp, err := f.Client.Do(req)
	if err != nil {
		return nil, classifyTransport(err)
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusNotModified:
		return &Response{NotModified: true, ETag: etag, LastModified: lastModified}, nil
	case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable:
		return nil, &FetchError{Class: ClassThrottled, RetryAfter: retryAfter(resp.Header.Get("Retry-After"), time.Now()), Err: fmt.Errorf("HTTP %d", resp.StatusCode)}
	case resp.StatusCode >= 500:
		return nil, &FetchError{Class: ClassHTTP5xx, Err: fmt.Errorf("HTTP %d", resp.StatusCode)}
	case resp.StatusCode >= 400:
		return nil, &FetchError{Class: ClassHTTP4xx, Err: fmt.Errorf("HTTP %d", resp.StatusCode)}
	case resp.StatusCode >= 300:
		return nil, &FetchError{Class: ClassHTTP4xx, Err: fmt.Errorf("HTTP %d without a usable redirect", resp.StatusCode)}
	}
	body, err := readCapped(resp.Body, f.maxBody())
	if err != nil {
		return nil, err
	}
	r := &Response{Body: body, ETag: resp.Header.Get("ETag"), LastModified: resp.Header.Get("Last-Modified")}
	return r, nil
}

func (f *Fetcher) maxBody() int64 {
	if f.MaxBody > 0 {
		return f.MaxBody
	}
	return MaxBodySize
}

func (f *Fetcher) fetchFile(u *url.URL) (*Response, error) {
	p := FilePath(u)
	fh, err := os.Open(p)
	if err != nil {
		return nil, &FetchError{Class: ClassFile, Err: err}
	}
	defer fh.Close()
	body, err := readCapped(fh, f.maxBody())
	if err != nil {
		return nil, err
	}
	return &Response{Body: body}, nil
}

// FilePath is the local path a file:// URL names. "file:///abs/path" is
// absolute; "file://rel/path" and "file:rel/path" are relative.
func FilePath(u *url.URL) string {
	if u.Opaque != "" {
		return filepath.FromSlash(u.Opaque)
	}
	if u.Host != "" && u.Host != "localhost" {
		return filepath.FromSlash(u.Host + u.Path)
	}
	return filepath.FromSlash(u.Path)
}

// resolveFileURL makes a relative file URL relative to the config file.
func resolveFileURL(cfg *config.Config, raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "file" {
		return raw
	}
	p := FilePath(u)
	if filepath.IsAbs(p) {
		return raw
	}
	abs, err := filepath.Abs(cfg.Resolve(p))
	if err != nil {
		return raw
	}
	return (&url.URL{Scheme: "file", Path: filepath.ToSlash(abs)}).String()
}

func readCapped(r io.Reader, max int64) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, max+1))
	if err != nil {
		return nil, classifyTransport(err)
	}
	if int64(len(b)) > max {
		return nil, &FetchError{Class: ClassTooLarge, Err: fmt.Errorf("document larger than %d bytes", max)}
	}
	return b, nil
}

func classifyTransport(err error) error {
	var ne net.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()):
		return &FetchError{Class: ClassTimeout, Err: err}
	case strings.Contains(err.Error(), "tls:") || strings.Contains(err.Error(), "x509:"):
		return &FetchError{Class: ClassTLS, Err: err}
	}
	return &FetchError{Class: ClassNetwork, Err: err}
}

// retryAfter parses a Retry-After header (seconds or an HTTP date).
func retryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && s >= 0 {
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}
