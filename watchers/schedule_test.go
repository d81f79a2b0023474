package watchers

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/robfig/cron/v3"
)

func TestJitterIsStableBoundedAndSpread(t *testing.T) {
	s := &Scheduler{MaxJitter: 5 * time.Minute}
	interval := 15 * time.Minute
	seconds := map[int64]int{}
	for i := range 10000 {
		id := fmt.Sprintf("reddit/%d", i)
		j := s.Jitter(id, interval)
		if j != s.Jitter(id, interval) {
			t.Fatalf("jitter of %s not stable", id)
		}
		if j < 0 || j >= interval/4 {
			t.Fatalf("jitter %v outside [0, %v)", j, interval/4)
		}
		seconds[int64(j/time.Second)]++
	}
	// 10,000 feeds over 225 seconds: every second should have some.
	if len(seconds) < 200 {
		t.Errorf("10,000 feeds landed in only %d distinct seconds", len(seconds))
	}
	if j := (&Scheduler{MaxJitter: 10 * time.Second}).Jitter("x", time.Hour); j >= 10*time.Second {
		t.Errorf("MaxJitter not honoured: %v", j)
	}
	if j := (&Scheduler{}).Jitter("x", time.Hour); j != 0 {
		t.Errorf("MaxJitter 0 should disable jitter, as polling.jitter: 0 does; got %v", j)
	}
}

func TestInterval(t *testing.T) {
	loc, _ := time.LoadLocation("Europe/London")
	now := time.Date(2026, 11, 25, 8, 3, 0, 0, loc)
	for spec, want := range map[string]time.Duration{"@every 15m": 15 * time.Minute, "*/10 * * * *": 10 * time.Minute, "0 7 * * *": 24 * time.Hour} {
		sch, err := cron.ParseStandard(spec)
		if err != nil {
			t.Fatal(err)
		}
		if got := interval(sch, now); got != want {
			t.Errorf("interval(%q) = %v, want %v", spec, got, want)
		}
	}
}

// TestLimiter checks the per-site bound and that other sites are not held up.
func TestLimiter(t *testing.T) {
	l := newLimiter(8, 2, nil)
	ctx := context.Background()
	r1, _ := l.acquire(ctx, "https://www.reddit.com/search.rss?q=a")
	r2, _ := l.acquire(ctx, "https://old.reddit.com/search.rss?q=b")
	// A third reddit poll must wait: give it a short deadline.
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if _, err := l.acquire(short, "https://reddit.com/r/x.rss"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("third poll of one site got a slot (err %v)", err)
	}
	// Another site is not held up.
	r3, err := l.acquire(ctx, "https://news.google.com/rss?q=x")
	if err != nil {
		t.Fatal(err)
	}
	r1()
	r4, err := l.acquire(ctx, "https://reddit.com/r/x.rss")
	if err != nil {
		t.Fatal(err)
	}
	r2()
	r3()
	r4()
	if len(l.hosts) != 0 || len(l.global) != 0 {
		t.Errorf("limiter not empty after release: %d hosts, %d global", len(l.hosts), len(l.global))
	}
}

// TestRunPollsOnStartAndStops runs the scheduler with real cron until every
// feed was polled once, then stops it.
func TestRunPollsOnStartAndStops(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(rssDoc(rssItem{GUID: r.URL.Path, Title: "t"})))
	}))
	defer srv.Close()
	st := openStore(t, t.TempDir())
	p, _ := newPoller(st, &fakeClock{t: time.Now()})
	var feeds []Feed
	for i := range 20 {
		feeds = append(feeds, testFeed(fmt.Sprintf("f%d", i), fmt.Sprintf("%s/%d", srv.URL, i)))
	}
	done := make(chan Result, len(feeds))
	ctx, cancel := context.WithCancel(context.Background())
	sch := &Scheduler{Poller: p, Feeds: feeds, PollOnStart: true, Concurrency: 4, PerHost: 4, OnPoll: func(r Result) { done <- r }}
	errc := make(chan error, 1)
	go func() { errc <- sch.Run(ctx) }()
	for range feeds {
		select {
		case r := <-done:
			if r.Err != nil || r.New != 1 {
				t.Errorf("%s: %v", r.Feed.ID, r)
			}
		case <-time.After(30 * time.Second):
			t.Fatal("feeds not polled on start")
		}
	}
	cancel()
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
}

// blockingSink holds the first feed's items until told to let go, and
// counts how many polls are in the sink at once.
type blockingSink struct {
	first   string
	entered chan struct{} // closed when the first feed is in the sink
	release chan struct{}

	mu           sync.Mutex
	inside, peak int
}

func (s *blockingSink) Items(ctx context.Context, f Feed, items []Item, now time.Time) (Counts, error) {
	s.mu.Lock()
	s.inside++
	s.peak = max(s.peak, s.inside)
	s.mu.Unlock()
	defer func() { s.mu.Lock(); s.inside--; s.mu.Unlock() }()
	if f.ID == s.first {
		close(s.entered)
		select {
		case <-s.release:
		case <-ctx.Done():
			return Counts{}, ctx.Err()
		}
	}
	return Counts{New: len(items)}, nil
}

// TestFetchSlotFreedWhileRecording: with one slot, a poll that is still
// recording its items (waiting for the store) does not keep the next
// feed's fetch waiting; and documents being processed stay within the
// bound.
func TestFetchSlotFreedWhileRecording(t *testing.T) {
	var fetchedB atomic.Bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/b" {
			fetchedB.Store(true)
		}
		io.WriteString(w, rssDoc(rssItem{GUID: r.URL.Path, Title: "x"}))
	}))
	defer srv.Close()
	sink := &blockingSink{first: "a", entered: make(chan struct{}), release: make(chan struct{})}
	p := &Poller{Fetcher: NewFetcher("test"), Sink: sink, Log: quiet, DryRun: true}
	s := &Scheduler{Poller: p, Concurrency: 1, PerHost: 1}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	done := make(chan Result)
	go func() { r, _ := s.poll(ctx, testFeed("a", srv.URL+"/a")); done <- r }()
	<-sink.entered
	// a is in the sink; b can be fetched, though not processed until a is done.
	go func() { r, _ := s.poll(ctx, testFeed("b", srv.URL+"/b")); done <- r }()
	for !fetchedB.Load() {
		select {
		case <-ctx.Done():
			t.Fatal("b was not fetched while a held its items: the fetch slot was not released")
		case <-time.After(time.Millisecond):
		}
	}
	close(sink.release)
	for range 2 {
		if r := <-done; r.Err != nil {
			t.Errorf("%s: %v", r.Feed.ID, r.Err)
		}
	}
	if sink.peak != 1 {
		t.Errorf("%d documents processed at once with concurrency 1", sink.peak)
	}
}

// A site with a request-rate limit gets its requests spaced out; other
// sites have no limit.
func TestRequestsPerMinute(t *testing.T) {
	l := newLimiter(8, 2, map[string]float64{"reddit.com": 600}) // one every 100 ms
	ctx := context.Background()
	start := time.Now()
	for range 3 {
		release, err := l.acquire(ctx, "https://www.reddit.com/r/kent/search.rss?q=x")
		if err != nil {
			t.Fatal(err)
		}
		release()
	}
	if d := time.Since(start); d < 150*time.Millisecond {
		t.Errorf("3 reddit requests at 600 a minute took %v, want at least 200ms between the first and the third", d)
	}
	if _, ok := l.rates[hostOf("https://news.example.org/feed")]; ok || len(l.rates) != 1 {
		t.Errorf("rate limits = %v, want reddit.com's only", l.rates)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := l.acquire(cctx, "https://old.reddit.com/r/kent.rss"); err == nil {
		t.Error("acquire on a cancelled context waited its turn instead of returning")
	}
}
