package watchers

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Limits on one fetch. The feed's own timeout bounds the whole exchange.
const (
	// MaxBodySize caps a feed document after decompression; anything
	// larger is cut off without reading the rest and reported.
	MaxBodySize = 10 << 20
	// MaxRedirects caps the redirects followed for one fetch.
	MaxRedirects = 5
)

// Error classes, used as bounded metric label values and in notices.
const (
	ClassTimeout    = "timeout"
	ClassNetwork    = "network"
	ClassTLS        = "tls"
	ClassRedirect   = "redirect"
	ClassHTTP4xx    = "http_4xx"
	ClassGone       = "gone" // 404 or 410: the feed has moved or died
	ClassThrottled  = "throttled"
	ClassHTTP5xx    = "http_5xx"
	ClassTooLarge   = "too_large"
	ClassNotFeed    = "not_feed" // the document is HTML or something else, not RSS/Atom/JSON Feed
	ClassParse      = "parse"
	ClassFile       = "file"
	ClassStore      = "store"
	ClassBadRequest = "bad_request"
)

// ErrorClasses lists every class, for pre-registering metric series.
var ErrorClasses = []string{ClassTimeout, ClassNetwork, ClassTLS, ClassRedirect, ClassHTTP4xx, ClassGone, ClassThrottled,
	ClassHTTP5xx, ClassTooLarge, ClassNotFeed, ClassParse, ClassFile, ClassStore, ClassBadRequest, ClassRedirectBlocked}

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
	// NotModified reports a 304: the document is unchanged since the
	// validators sent. Body is nil. (A 200 is always read, even with the
	// same ETag as before: some servers send a constant one. The Poller
	// compares the body with the last one instead.)
	NotModified  bool
	Body         []byte
	ETag         string
	LastModified string
	// ContentType is what the server said the body was (for messages only:
	// the body is sniffed, because feed servers often get it wrong).
	ContentType string
	// Date is the response's Date header, kept with alerting items as evidence.
	Date string
}

// Fetcher gets feed documents over HTTP(S) or from files. It is safe for
// concurrent use.
type Fetcher struct {
	Client *http.Client
	// UserAgent names schoolwatch and a contact URL, so a feed's operator
	// can tell who is polling.
	UserAgent string
	// MaxBody caps a document after decompression (default MaxBodySize).
	MaxBody int64
	// Now is the clock a Retry-After date is measured against (default
	// time.Now).
	Now func() time.Time

	// lookup resolves a host for the redirect guard (default: the
	// system's resolver); tests replace it.
	lookup func(ctx context.Context, host string) ([]netip.Addr, error)
}

// errTooManyRedirects is what CheckRedirect returns; Fetch classifies it.
var errTooManyRedirects = fmt.Errorf("stopped after %d redirects", MaxRedirects)

// NewFetcher returns a Fetcher with the package's limits. The caller bounds
// each fetch's total time through its context.
func NewFetcher(userAgent string) *Fetcher {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConns = 256
	tr.MaxIdleConnsPerHost = 16
	tr.ResponseHeaderTimeout = 30 * time.Second
	// Fetch asks for gzip and decompresses itself, so that the size cap
	// sees both the compressed and the decompressed stream.
	tr.DisableCompression = true
	tr.DialContext = guardedDialer().DialContext
	return &Fetcher{
		Client:    &http.Client{Transport: tr, CheckRedirect: checkRedirect(tr.Proxy)},
		UserAgent: userAgent,
		MaxBody:   MaxBodySize,
	}
}

func (f *Fetcher) resolve(ctx context.Context, host string) ([]netip.Addr, error) {
	if f.lookup != nil {
		return f.lookup(ctx, host)
	}
	return net.DefaultResolver.LookupNetIP(ctx, "ip", host)
}

// acceptFeeds prefers feed types but takes anything: the body is sniffed.
const acceptFeeds = "application/rss+xml, application/atom+xml, application/feed+json, application/xml;q=0.9, text/xml;q=0.9, application/json;q=0.8, */*;q=0.5"

// Fetch gets rawURL, sending the validators from a previous response so an
// unchanged feed costs a 304 and no parse.
func (f *Fetcher) Fetch(ctx context.Context, rawURL, etag, lastModified string) (*Response, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, &FetchError{Class: ClassBadRequest, Err: err}
	}
	if u.Scheme == "file" {
		return f.fetchFile(u)
	}
	ctx = context.WithValue(ctx, guardKey{}, &redirectGuard{configured: u.Hostname(), lookup: f.resolve})
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return nil, &FetchError{Class: ClassBadRequest, Err: err}
	}
	req.Header.Set("User-Agent", f.UserAgent)
	req.Header.Set("Accept", acceptFeeds)
	req.Header.Set("Accept-Encoding", "gzip")
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
	defer func() {
		// Drain a little so a small error body does not cost the
		// connection; never a large one.
		io.CopyN(io.Discard, resp.Body, 4<<10)
		resp.Body.Close()
	}()
	now := time.Now
	if f.Now != nil {
		now = f.Now
	}
	if err := statusError(resp, now()); err != nil {
		return nil, err
	}
	r := &Response{ETag: resp.Header.Get("ETag"), LastModified: resp.Header.Get("Last-Modified"), ContentType: resp.Header.Get("Content-Type"), Date: resp.Header.Get("Date")}
	if resp.StatusCode == http.StatusNotModified {
		// A 304 may omit the validators; keep the ones we have.
		r.NotModified = true
		r.ETag, r.LastModified = orDefault(r.ETag, etag), orDefault(r.LastModified, lastModified)
		return r, nil
	}
	max := f.maxBody()
	var body io.Reader = &cappedReader{r: resp.Body, left: max}
	hint := resp.ContentLength // -1 when unknown
	switch strings.ToLower(strings.TrimSpace(resp.Header.Get("Content-Encoding"))) {
	case "", "identity":
	case "gzip", "x-gzip":
		zr, err := gzip.NewReader(body)
		if err != nil {
			return nil, &FetchError{Class: ClassParse, Err: fmt.Errorf("gzip: %w", err)}
		}
		defer zr.Close()
		body = zr
		hint = -1 // the compressed length says little
	default:
		return nil, &FetchError{Class: ClassParse, Err: fmt.Errorf("unsupported Content-Encoding %q", resp.Header.Get("Content-Encoding"))}
	}
	if r.Body, err = readCapped(body, max, hint); err != nil {
		return nil, err
	}
	return r, nil
}

// statusError turns a status code into a classified error (nil for 2xx and 304).
func statusError(resp *http.Response, now time.Time) error {
	code := resp.StatusCode
	status := fmt.Errorf("HTTP %d", code)
	switch {
	case code == http.StatusNotModified || (code >= 200 && code < 300):
		return nil
	case code == http.StatusTooManyRequests || code == http.StatusServiceUnavailable:
		return &FetchError{Class: ClassThrottled, RetryAfter: retryAfter(resp.Header.Get("Retry-After"), now), Err: status}
	case code == http.StatusNotFound || code == http.StatusGone:
		return &FetchError{Class: ClassGone, Err: status}
	case code >= 500:
		return &FetchError{Class: ClassHTTP5xx, Err: status}
	case code >= 400:
		return &FetchError{Class: ClassHTTP4xx, Err: status}
	}
	return &FetchError{Class: ClassRedirect, Err: fmt.Errorf("HTTP %d without a usable Location", code)}
}

func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
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
	body, err := readCapped(fh, f.maxBody(), -1)
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

// errCapped marks a stream cut off at its cap.
var errCapped = errors.New("size cap reached")

// cappedReader fails once more than left bytes have been read, so a huge
// compressed stream is stopped before the decompressor sees all of it.
type cappedReader struct {
	r    io.Reader
	left int64
}

func (c *cappedReader) Read(p []byte) (int, error) {
	if c.left < 0 {
		return 0, errCapped
	}
	if int64(len(p)) > c.left+1 {
		p = p[:c.left+1]
	}
	n, err := c.r.Read(p)
	c.left -= int64(n)
	if c.left < 0 {
		return n, errCapped
	}
	return n, err
}

// maxSizeHint bounds the buffer readCapped allocates up front on a server's
// word (its Content-Length), before any byte has arrived.
const maxSizeHint = 1 << 20

// readCapped reads r to the end, failing with ClassTooLarge past max bytes
// without reading further. hint, if positive, is the expected length: the
// buffer is sized for it once instead of growing by doubling.
func readCapped(r io.Reader, max, hint int64) ([]byte, error) {
	var buf bytes.Buffer
	if hint > 0 {
		buf.Grow(int(min(hint, max, maxSizeHint)) + bytes.MinRead)
	}
	_, err := buf.ReadFrom(&cappedReader{r: r, left: max})
	b := buf.Bytes()
	switch {
	case errors.Is(err, errCapped):
		return nil, &FetchError{Class: ClassTooLarge, Err: fmt.Errorf("document larger than %d bytes", max)}
	case errors.Is(err, gzip.ErrChecksum) || errors.Is(err, gzip.ErrHeader) || errors.Is(err, io.ErrUnexpectedEOF) && len(b) > 0:
		return nil, &FetchError{Class: ClassParse, Err: err}
	case err != nil:
		return nil, classifyTransport(err)
	}
	return b, nil
}

func classifyTransport(err error) error {
	var ne net.Error
	var certErr *tls.CertificateVerificationError
	var unknownAuth x509.UnknownAuthorityError
	var hostErr x509.HostnameError
	var recErr tls.RecordHeaderError
	switch {
	case errors.Is(err, errTooManyRedirects):
		return &FetchError{Class: ClassRedirect, Err: err}
	case errors.Is(err, errBlockedAddress):
		return &FetchError{Class: ClassRedirectBlocked, Err: err}
	case errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()):
		return &FetchError{Class: ClassTimeout, Err: err}
	case errors.As(err, &certErr) || errors.As(err, &unknownAuth) || errors.As(err, &hostErr) || errors.As(err, &recErr):
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
