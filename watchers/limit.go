package watchers

import (
	"context"
	"golang.org/x/time/rate"
	"net/url"
	"strings"
	"sync"

	"golang.org/x/net/publicsuffix"
)

// Default bounds on fetches in flight.
const (
	DefaultConcurrency = 16
	// DefaultPerHost keeps us polite to hosts that serve many feeds
	// (Reddit and Google search feeds throttle hard).
	DefaultPerHost = 2
)

// limiter bounds fetches in flight, globally and per host, and the
// fetched documents being parsed and recorded. A fetch takes its host's
// slot before a global one, so feeds queued behind a busy host never hold
// global slots that other hosts' feeds could use.
type limiter struct {
	global  chan struct{}
	perHost int
	// process bounds documents between fetch and the end of their poll
	// (parse, normalise, record): as many as fetches.
	process chan struct{}

	mu    sync.Mutex
	hosts map[string]*hostSlots // only hosts with polls waiting or running
	// rates caps the requests a minute to a site, beside perHost's bound
	// on requests in flight (nil: none).
	rates map[string]*rate.Limiter
}

type hostSlots struct {
	slots chan struct{}
	users int
}

func newLimiter(global, perHost int, perMinute map[string]float64) *limiter {
	if global <= 0 {
		global = DefaultConcurrency
	}
	if perHost <= 0 {
		perHost = DefaultPerHost
	}
	l := &limiter{global: make(chan struct{}, global), perHost: perHost, process: make(chan struct{}, global), hosts: map[string]*hostSlots{}}
	for site, n := range perMinute {
		if n > 0 {
			if l.rates == nil {
				l.rates = map[string]*rate.Limiter{}
			}
			l.rates[hostOf("https://"+site+"/")] = rate.NewLimiter(rate.Limit(n/60), 1)
		}
	}
	return l
}

// acquire waits for a slot for a poll of rawURL and returns its release,
// or ctx's error.
func (l *limiter) acquire(ctx context.Context, rawURL string) (release func(), err error) {
	host := hostOf(rawURL)
	var hs *hostSlots
	if host != "" {
		l.mu.Lock()
		hs = l.hosts[host]
		if hs == nil {
			hs = &hostSlots{slots: make(chan struct{}, l.perHost)}
			l.hosts[host] = hs
		}
		hs.users++
		l.mu.Unlock()
		select {
		case hs.slots <- struct{}{}:
		case <-ctx.Done():
			l.leave(host, hs)
			return nil, ctx.Err()
		}
		// A site with a request-rate limit waits its turn while holding
		// only its own slot, never a global one.
		if lim := l.rates[host]; lim != nil {
			if err := lim.Wait(ctx); err != nil {
				<-hs.slots
				l.leave(host, hs)
				return nil, err
			}
		}
	}
	select {
	case l.global <- struct{}{}:
	case <-ctx.Done():
		if hs != nil {
			<-hs.slots
			l.leave(host, hs)
		}
		return nil, ctx.Err()
	}
	return func() {
		<-l.global
		if hs != nil {
			<-hs.slots
			l.leave(host, hs)
		}
	}, nil
}

// leave forgets a host nobody is using, so the map stays as small as the
// set of hosts being polled.
func (l *limiter) leave(host string, hs *hostSlots) {
	l.mu.Lock()
	defer l.mu.Unlock()
	hs.users--
	if hs.users == 0 {
		delete(l.hosts, host)
	}
}

// hostOf is the site a URL's per-host limit counts against: the
// registrable domain, so www.reddit.com and old.reddit.com share one limit
// ("" for files).
func hostOf(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil || u.Scheme == "file" {
		return ""
	}
	h := strings.ToLower(u.Hostname())
	if site, err := publicsuffix.EffectiveTLDPlusOne(h); err == nil {
		return site
	}
	return h
}
