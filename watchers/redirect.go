package watchers

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"
)

// ClassRedirectBlocked: a redirect led to a loopback, private or
// link-local address, which a feed on a public address may not reach.
const ClassRedirectBlocked = "redirect_blocked"

// errBlockedAddress is the cause of a refused redirect.
var errBlockedAddress = errors.New("redirect to a loopback, private or link-local address refused")

// blockedError names the address a redirect was refused for.
type blockedError struct{ addr string }

func (e *blockedError) Error() string { return fmt.Sprintf("%v (%s)", errBlockedAddress, e.addr) }
func (e *blockedError) Unwrap() error { return errBlockedAddress }

// redirectGuard is one fetch's redirect policy. A feed's configured URL is
// the operator's choice, wherever it points. A redirect is the feed
// server's: it may not send the fetch to an address inside the network
// schoolwatch runs in (blind SSRF), unless the configured URL is itself on
// such an address (an intranet feed redirecting within the intranet).
//
// After the first redirect every new connection is checked at dial time,
// on the address actually dialled, so a name that resolved to a public
// address when the redirect was checked and to a private one a moment
// later (DNS rebinding) is still refused.
type redirectGuard struct {
	configured string // the configured URL's host
	lookup     func(ctx context.Context, host string) ([]netip.Addr, error)

	mu         sync.Mutex
	redirected bool
	viaProxy   bool // the current request goes through a proxy: the dial is to it
	decided    bool
	private    bool // the configured host is on a blocked address
}

type guardKey struct{}

func guardFrom(ctx context.Context) *redirectGuard {
	g, _ := ctx.Value(guardKey{}).(*redirectGuard)
	return g
}

// checkRedirect vets a redirect's target before it is requested.
func (g *redirectGuard) checkRedirect(ctx context.Context, host string, viaProxy bool) error {
	g.mu.Lock()
	g.redirected, g.viaProxy = true, viaProxy
	g.mu.Unlock()
	if g.allowPrivate(ctx) {
		return nil
	}
	if ip, err := netip.ParseAddr(host); err == nil {
		if blockedAddr(ip) {
			return &blockedError{addr: host}
		}
		return nil
	}
	// A name: resolve it now, to fail early with a clear error, and
	// because a connection to it already open for another feed would be
	// reused without being dialled (and checked) again.
	addrs, err := g.lookup(ctx, host)
	if err != nil {
		return nil // the request will fail on it as usual
	}
	if slices.ContainsFunc(addrs, blockedAddr) {
		return &blockedError{addr: host}
	}
	return nil
}

// checkDial vets an address about to be dialled: after a redirect, and
// unless the configured host is private, it must not be a blocked one.
func (g *redirectGuard) checkDial(address string) error {
	g.mu.Lock()
	check := g.redirected && g.decided && !g.private && !g.viaProxy
	g.mu.Unlock()
	if !check {
		return nil
	}
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		host = address
	}
	if ip, err := netip.ParseAddr(host); err == nil && blockedAddr(ip) {
		return &blockedError{addr: host}
	}
	return nil
}

// allowPrivate reports whether the configured host is itself on a blocked
// address, deciding it once per fetch (at its first redirect).
func (g *redirectGuard) allowPrivate(ctx context.Context) bool {
	g.mu.Lock()
	if g.decided {
		defer g.mu.Unlock()
		return g.private
	}
	g.mu.Unlock()
	private := false
	host := strings.TrimSuffix(strings.ToLower(g.configured), ".")
	if ip, err := netip.ParseAddr(host); err == nil {
		private = blockedAddr(ip)
	} else if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		private = true
	} else if addrs, err := g.lookup(ctx, host); err == nil {
		private = slices.ContainsFunc(addrs, blockedAddr)
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if !g.decided {
		g.decided, g.private = true, private
	}
	return g.private
}

// blockedRanges are the address ranges a redirect may not lead to, beyond
// what netip classifies itself (loopback, private, link-local, multicast,
// unspecified).
var blockedRanges = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),     // "this network"
	netip.MustParsePrefix("100.64.0.0/10"), // carrier-grade NAT, shared address space
	netip.MustParsePrefix("192.0.0.0/24"),  // IETF protocol assignments
	netip.MustParsePrefix("198.18.0.0/15"), // benchmarking
	netip.MustParsePrefix("240.0.0.0/4"),   // reserved, and the broadcast address
	netip.MustParsePrefix("fec0::/10"),     // deprecated site-local
}

// nat64 is the well-known NAT64 prefix: its addresses embed IPv4 ones.
var nat64 = netip.MustParsePrefix("64:ff9b::/96")

// blockedAddr reports whether ip is loopback, private (RFC 1918, IPv6
// unique local), link-local, unspecified, multicast, carrier-grade NAT or
// otherwise not a public unicast address, including in IPv4-mapped and
// NAT64 forms.
func blockedAddr(ip netip.Addr) bool {
	ip = ip.WithZone("")
	if ip.Is4In6() {
		ip = ip.Unmap()
	}
	if nat64.Contains(ip) {
		b := ip.As16()
		ip = netip.AddrFrom4([4]byte(b[12:]))
	}
	if ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast() ||
		ip.IsInterfaceLocalMulticast() || ip.IsMulticast() || ip.IsUnspecified() || !ip.IsValid() {
		return true
	}
	for _, p := range blockedRanges {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// guardedDialer returns a dialer (with the default transport's timeouts)
// that applies the fetch's redirect guard to every address it connects to.
func guardedDialer() *net.Dialer {
	return &net.Dialer{
		Timeout:   30 * time.Second,
		KeepAlive: 30 * time.Second,
		ControlContext: func(ctx context.Context, network, address string, _ syscall.RawConn) error {
			if g := guardFrom(ctx); g != nil {
				return g.checkDial(address)
			}
			return nil
		},
	}
}

// checkRedirect returns the client's redirect policy: at most
// MaxRedirects, no credentials carried from a Location's userinfo, no
// Referer (it would hand the feed URL, tokens and all, to wherever the
// redirect points), and no redirect into the local network (see
// redirectGuard). proxy is the transport's proxy function, if any.
func checkRedirect(proxy func(*http.Request) (*url.URL, error)) func(*http.Request, []*http.Request) error {
	return func(req *http.Request, via []*http.Request) error {
		if len(via) >= MaxRedirects {
			return errTooManyRedirects
		}
		req.URL.User = nil
		req.Header.Del("Referer")
		g := guardFrom(req.Context())
		if g == nil {
			return nil
		}
		viaProxy := false
		if proxy != nil {
			u, err := proxy(req)
			viaProxy = err == nil && u != nil
		}
		return g.checkRedirect(req.Context(), req.URL.Hostname(), viaProxy)
	}
}
