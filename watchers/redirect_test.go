package watchers

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestBlockedAddr(t *testing.T) {
	blocked := []string{"127.0.0.1", "127.255.0.9", "::1", "10.1.2.3", "172.16.0.1", "172.31.255.255", "192.168.1.1",
		"169.254.169.254", "fe80::1", "fe80::1%eth0", "fc00::1", "fd12:3456::1", "0.0.0.0", "::", "0.1.2.3", "100.64.0.1", "100.127.255.254",
		"::ffff:127.0.0.1", "::ffff:10.0.0.1", "::ffff:169.254.169.254", "64:ff9b::7f00:1", "64:ff9b::a9fe:a9fe", "224.0.0.1", "ff02::1",
		"255.255.255.255", "240.0.0.1", "fec0::1", "198.18.0.1"}
	public := []string{"93.184.216.34", "8.8.8.8", "100.63.255.255", "100.128.0.1", "172.32.0.1", "2001:4860:4860::8888", "::ffff:8.8.8.8", "64:ff9b::808:808", "203.0.113.7"}
	for _, s := range blocked {
		if !blockedAddr(netip.MustParseAddr(s)) {
			t.Errorf("%s is not blocked", s)
		}
	}
	for _, s := range public {
		if blockedAddr(netip.MustParseAddr(s)) {
			t.Errorf("%s is blocked", s)
		}
	}
}

// TestRedirectIntoLocalNetwork: two servers, both on 127.0.0.1. The first
// plays a feed on a public address (the resolver hook says so) and
// redirects to the second, an internal service.
func TestRedirectIntoLocalNetwork(t *testing.T) {
	var internalHits atomic.Int32
	var mu sync.Mutex
	var seen http.Header
	internal := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		internalHits.Add(1)
		mu.Lock()
		seen = r.Header.Clone()
		mu.Unlock()
		w.Write([]byte(rssDoc(rssItem{GUID: "secret", Title: "internal"})))
	}))
	defer internal.Close()
	iu, _ := url.Parse(internal.URL)
	target := ""
	feed := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, target, http.StatusFound)
	}))
	defer feed.Close()
	fu, _ := url.Parse(feed.URL)

	public := func(ctx context.Context, host string) ([]netip.Addr, error) {
		return []netip.Addr{netip.MustParseAddr("203.0.113.7")}, nil
	}
	// fetch fetches feedURL with a redirect to to. With the resolver hook
	// set, every name resolves "public" for the guard's checks, and
	// feed.example.test reaches the feed server (on 127.0.0.1): a feed on
	// a public host, as far as the guard can tell.
	fetch := func(t *testing.T, lookup func(context.Context, string) ([]netip.Addr, error), feedURL, to string) (string, error) {
		t.Helper()
		target = to
		internalHits.Store(0)
		f := NewFetcher("test")
		if lookup != nil {
			f.lookup = lookup
			tr := f.Client.Transport.(*http.Transport)
			dial := tr.DialContext
			tr.DialContext = func(ctx context.Context, network, address string) (net.Conn, error) {
				if strings.HasPrefix(address, "feed.example.test:") {
					address = fu.Host
				}
				return dial(ctx, network, address)
			}
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_, err := f.Fetch(ctx, feedURL, "", "")
		return ErrorClass(err), err
	}
	publicFeed := "http://feed.example.test:" + fu.Port() + "/feed"

	t.Run("a public feed cannot redirect to loopback", func(t *testing.T) {
		class, err := fetch(t, public, publicFeed, internal.URL+"/admin")
		if class != ClassRedirectBlocked || internalHits.Load() != 0 {
			t.Errorf("class %q, internal hits %d; want %s and none", class, internalHits.Load(), ClassRedirectBlocked)
		}
		if err != nil && !strings.Contains(err.Error(), "private") {
			t.Errorf("unclear error: %v", err)
		}
		// Other spellings of local addresses.
		for _, host := range []string{"[::ffff:127.0.0.1]", "[::1]", "0.0.0.0", "169.254.169.254", "10.0.0.1"} {
			if class, _ := fetch(t, public, publicFeed, "http://"+host+":"+iu.Port()+"/"); class != ClassRedirectBlocked {
				t.Errorf("redirect to %s: class %q, want %s", host, class, ClassRedirectBlocked)
			}
		}
	})

	t.Run("DNS rebinding: a name that looks public when checked and is loopback when dialled", func(t *testing.T) {
		// The hook answers "public" for localhost; the dialler resolves
		// it for real, to 127.0.0.1, and refuses it.
		class, err := fetch(t, public, publicFeed, "http://localhost:"+iu.Port()+"/admin")
		if class != ClassRedirectBlocked || internalHits.Load() != 0 {
			t.Errorf("class %q (%v), internal hits %d; want %s and none", class, err, internalHits.Load(), ClassRedirectBlocked)
		}
		// Refused at the dial, on the address: the name passed the check.
		if err != nil && !strings.Contains(err.Error(), "(127.0.0.1)") && !strings.Contains(err.Error(), "(::1)") {
			t.Errorf("not refused at dial time: %v", err)
		}
	})

	t.Run("a feed on a private address may redirect within it", func(t *testing.T) {
		// The configured URL is 127.0.0.1 itself. A Location with
		// userinfo loses it, and no Referer leaks the feed URL.
		to := "http://user:secret@" + iu.Host + "/feed.xml"
		if class, err := fetch(t, nil, feed.URL+"/feed?token=SECRET", to); class != "" || internalHits.Load() != 1 {
			t.Fatalf("class %q (%v), internal hits %d; want the redirect followed", class, err, internalHits.Load())
		}
		mu.Lock()
		defer mu.Unlock()
		if a := seen.Get("Authorization"); a != "" {
			t.Errorf("the redirect carried credentials: Authorization %q", a)
		}
		if r := seen.Get("Referer"); r != "" {
			t.Errorf("the redirect carried a Referer: %q", r)
		}
	})

	t.Run("the rule: public to public is fine, and only after a redirect", func(t *testing.T) {
		g := &redirectGuard{configured: "feeds.example.org", lookup: public}
		if err := g.checkDial("10.0.0.8:80"); err != nil {
			t.Errorf("the configured URL's own dial refused: %v", err)
		}
		if err := g.checkRedirect(context.Background(), "cdn.example.net", false); err != nil {
			t.Errorf("public to public refused: %v", err)
		}
		if err := g.checkDial("203.0.113.9:443"); err != nil {
			t.Errorf("dial to a public address refused: %v", err)
		}
		if err := g.checkDial("10.0.0.8:80"); err == nil {
			t.Error("dial to a private address after a redirect allowed")
		}
	})
}
