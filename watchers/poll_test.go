package watchers

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/schoolwatch/schoolwatch/store"
)

var t0 = time.Date(2026, 11, 25, 8, 0, 0, 0, time.UTC)

func rfc1123(t time.Time) string { return t.Format(time.RFC1123Z) }

// TestConditionalGETAcrossRestart checks that validators are stored, sent,
// and that a 304 costs no parse and records a success, also after the store
// is reopened.
func TestConditionalGETAcrossRestart(t *testing.T) {
	doc := rssDoc(rssItem{GUID: "a", Title: "A", PubDate: rfc1123(t0)}, rssItem{GUID: "b", Title: "B", PubDate: rfc1123(t0)})
	var requests, conditional atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		if r.Header.Get("If-None-Match") == `"v1"` && r.Header.Get("If-Modified-Since") == "Wed, 25 Nov 2026 07:00:00 GMT" {
			conditional.Add(1)
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Header().Set("ETag", `"v1"`)
		w.Header().Set("Last-Modified", "Wed, 25 Nov 2026 07:00:00 GMT")
		w.Write([]byte(doc))
	}))
	defer srv.Close()
	dir := t.TempDir()
	clock := &fakeClock{t: t0}
	f := testFeed("news", srv.URL)

	st := openStore(t, dir)
	p, sink := newPoller(st, clock)
	if r := p.Poll(context.Background(), f); r.Err != nil || r.Items != 2 || r.New != 2 {
		t.Fatalf("first poll = %+v", r)
	}
	clock.Add(15 * time.Minute)
	if r := p.Poll(context.Background(), f); r.Err != nil || !r.NotModified {
		t.Fatalf("second poll = %+v, want not modified", r)
	}
	if sink.calls != 1 {
		t.Errorf("sink called %d times; a 304 must not reach it", sink.calls)
	}
	st.Close()

	// A restart: a new store handle and poller on the same file.
	st2 := openStore(t, dir)
	p2, sink2 := newPoller(st2, clock)
	clock.Add(15 * time.Minute)
	if r := p2.Poll(context.Background(), f); r.Err != nil || !r.NotModified {
		t.Fatalf("poll after restart = %+v, want not modified", r)
	}
	if sink2.calls != 0 || conditional.Load() != 2 || requests.Load() != 3 {
		t.Errorf("after restart: sink calls %d, conditional %d of %d requests", sink2.calls, conditional.Load(), requests.Load())
	}
	// A routine 304 only moves times: its state waits for Flush (the
	// first handle was closed without one, so the store has the first poll's).
	if fs, _, _ := st2.FeedState(context.Background(), f.ID); !fs.LastSuccess.Equal(t0) {
		t.Errorf("routine state written before Flush: last success %v", fs.LastSuccess)
	}
	if err := p2.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	fs, _, _ := st2.FeedState(context.Background(), f.ID)
	if !fs.LastSuccess.Equal(clock.Now()) || fs.ItemsSeen != 2 || fs.ETag != `"v1"` {
		t.Errorf("state after restart = %+v", fs)
	}
}

// TestBackoffRetryAfterAndRecovery drives one feed through failures, a
// throttle and recovery, checking the persisted state at each step.
func TestBackoffRetryAfterAndRecovery(t *testing.T) {
	var mu sync.Mutex
	status, retry := http.StatusInternalServerError, ""
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		s, ra := status, retry
		mu.Unlock()
		if ra != "" {
			w.Header().Set("Retry-After", ra)
		}
		if s != http.StatusOK {
			w.WriteHeader(s)
			return
		}
		w.Write([]byte(rssDoc(rssItem{GUID: "x", Title: "X"})))
	}))
	defer srv.Close()
	set := func(s int, ra string) { mu.Lock(); status, retry = s, ra; mu.Unlock() }
	dir := t.TempDir()
	clock := &fakeClock{t: t0}
	st := openStore(t, dir)
	p, _ := newPoller(st, clock)
	f := testFeed("flaky", srv.URL)
	ctx := context.Background()
	state := func() store.FeedState {
		s, _, err := st.FeedState(ctx, f.ID)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}

	steps := []struct {
		name     string
		status   int
		retry    string
		class    string
		failures int
		wait     time.Duration // NextPoll - now
	}{
		{"first failure waits 1m", 500, "", ClassHTTP5xx, 1, time.Minute},
		{"second 2m", 500, "", ClassHTTP5xx, 2, 2 * time.Minute},
		{"third 4m", 502, "", ClassHTTP5xx, 3, 4 * time.Minute},
		{"429 honours Retry-After seconds", 429, "600", ClassThrottled, 4, 10 * time.Minute},
		{"503 honours Retry-After date", 503, t0.Add(time.Hour).Format(http.TimeFormat), ClassThrottled, 5, 0}, // checked below
		{"Retry-After beyond the cap is capped", 429, "86400", ClassThrottled, 6, time.Hour},
		{"exponential backoff is capped", 500, "", ClassHTTP5xx, 7, time.Hour},
		{"success resets", 200, "", "", 0, 0},
	}
	for _, step := range steps {
		set(step.status, step.retry)
		r := p.Poll(ctx, f)
		s := state()
		if ErrorClass(r.Err) != step.class || s.ErrorClass != step.class || s.Failures != step.failures {
			t.Fatalf("%s: err %v, state class %q failures %d; want %q, %d", step.name, r.Err, s.ErrorClass, s.Failures, step.class, step.failures)
		}
		wait := s.NextPoll.Sub(clock.Now())
		if s.NextPoll.IsZero() {
			wait = 0
		}
		want := step.wait
		if step.status == 503 {
			want = t0.Add(time.Hour).Truncate(time.Second).Sub(clock.Now())
		}
		if (wait - want).Abs() > time.Second {
			t.Errorf("%s: next poll in %v, want %v", step.name, wait, want)
		}
		if step.failures > 0 && !s.FailingSince.Equal(t0) {
			t.Errorf("%s: failing since %v, want %v", step.name, s.FailingSince, t0)
		}
		clock.Add(time.Minute)
	}
	s := state()
	if !s.LastSuccess.Equal(clock.Now().Add(-time.Minute)) || s.LastError != "" || !s.FailingSince.IsZero() || !s.NextPoll.IsZero() {
		t.Errorf("after recovery: %+v", s)
	}

	// The scheduler leaves a backing-off feed alone, also after a restart.
	set(500, "")
	p.Poll(ctx, f)
	st.Close()
	st2 := openStore(t, dir)
	var polled atomic.Int32
	p2, _ := newPoller(st2, clock)
	sch := &Scheduler{Poller: p2, Feeds: []Feed{f}, OnPoll: func(Result) { polled.Add(1) }}
	sch.pollIfDue(ctx, f)
	if polled.Load() != 0 {
		t.Error("a feed in backoff was polled after a restart")
	}
	clock.Add(2 * time.Minute)
	sch.pollIfDue(ctx, f)
	if polled.Load() != 1 {
		t.Error("a feed whose backoff ended was not polled")
	}
}

// TestOneBadFeedDoesNotStopOthers polls a malformed feed beside good ones.
func TestOneBadFeedDoesNotStopOthers(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("/good1", func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(rssDoc(rssItem{GUID: "1", Title: "one"})))
	})
	mux.HandleFunc("/bad", func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`<?xml version="1.0"?><rss version="2.0"><channel><item><title>unclosed`))
	})
	mux.HandleFunc("/good2", func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`<feed xmlns="http://www.w3.org/2005/Atom"><title>t</title><entry><id>urn:2</id><title>two</title><updated>2026-11-25T07:00:00Z</updated></entry></feed>`))
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	st := openStore(t, t.TempDir())
	p, _ := newPoller(st, &fakeClock{t: t0})
	sch := &Scheduler{Poller: p, Feeds: []Feed{testFeed("good1", srv.URL+"/good1"), testFeed("bad", srv.URL+"/bad"), testFeed("good2", srv.URL+"/good2")}}
	res := sch.PollAll(context.Background())
	want := map[string]string{"good1": "", "bad": ClassParse, "good2": ""}
	for _, r := range res {
		if ErrorClass(r.Err) != want[r.Feed.ID] {
			t.Errorf("%s: class %q (%v), want %q", r.Feed.ID, ErrorClass(r.Err), r.Err, want[r.Feed.ID])
		}
		if r.Err == nil && r.New != 1 {
			t.Errorf("%s: %d new items, want 1", r.Feed.ID, r.New)
		}
	}
}

// TestIdentityAndDedupe covers items without GUIDs or dates, identity that
// is stable across polls, and the same story from two feeds.
func TestIdentityAndDedupe(t *testing.T) {
	old := rfc1123(t0.Add(-30 * 24 * time.Hour))
	docs := map[string]string{
		"/a": rssDoc(
			rssItem{GUID: "a-1", Link: "https://news.example.org/story?utm_source=rss&id=7", Title: "Story", PubDate: rfc1123(t0.Add(-time.Hour))},
			rssItem{Link: "https://news.example.org/no-guid", Title: "No GUID, no date"},
			rssItem{Title: "Neither GUID nor link", Desc: "<p>Just <b>text</b> &amp; more</p>"},
			rssItem{GUID: "a-old", Title: "Old news", PubDate: old},
		),
		// The same story via a Google Alerts redirect, with its own GUID
		// and the same text; and another post on the same link.
		"/b": rssDoc(
			rssItem{GUID: "tag:google.com,2013:googlealerts/feed:123", Link: "https://www.google.com/url?rct=j&sa=t&url=https://news.example.org/story%3Fid%3D7%26utm_medium%3Demail&ct=ga&usg=AOv", Title: "Story"},
			rssItem{GUID: "b-2", Link: "https://news.example.org/story?id=7", Title: "Other"},
		),
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(docs[r.URL.Path]))
	}))
	defer srv.Close()
	clock := &fakeClock{t: t0}
	st := openStore(t, t.TempDir())
	p, sink := newPoller(st, clock)
	ctx := context.Background()
	fa, fb := testFeed("a", srv.URL+"/a"), testFeed("b", srv.URL+"/b")

	r := p.Poll(ctx, fa)
	if r.Err != nil || r.Items != 4 || r.New != 4 || r.TooOld != 1 {
		t.Fatalf("feed a first poll = %+v, want 4 items, 4 new, 1 too old", r)
	}
	items := sink.newItems()
	if !items[1].Published.Equal(t0) || items[1].Dated {
		t.Errorf("undated item: published %v dated %v, want first-seen time", items[1].Published, items[1].Dated)
	}
	if items[2].Text != "Just text & more" {
		t.Errorf("text = %q", items[2].Text)
	}
	if !items[3].TooOld {
		t.Error("30-day-old item not marked too old")
	}
	// A second poll of the same content (no validators) is not parsed
	// again. After a restart, the same items in another order (another
	// body) are found recorded.
	clock.Add(time.Minute)
	if r := p.Poll(ctx, fa); r.Err != nil || !r.NotModified {
		t.Fatalf("feed a second poll = %+v, want not modified (the same body)", r)
	}
	docs["/a"] = strings.Replace(docs["/a"], "<channel>", "<channel><!-- reordered -->", 1)
	p2, _ := newPoller(st, clock)
	if r := p2.Poll(ctx, fa); r.Err != nil || r.New != 0 || r.Items != 4 || r.NotModified {
		t.Fatalf("feed a after a restart = %+v, want all duplicates", r)
	}
	// Feed b carries the same story, word for word, through a redirect: it
	// is not new. Another post on the same link is.
	r = p.Poll(ctx, fb)
	if r.Err != nil || r.Items != 2 || r.New != 1 {
		t.Fatalf("feed b = %+v, want 1 of 2 new (the story was seen in feed a)", r)
	}
	if got := sink.newItems(); got[len(got)-1].Title != "Other" {
		t.Errorf("last new item = %q", got[len(got)-1].Title)
	}
}

// TestHomePageLinks: items that all link to the site's home page are still
// different items, told apart by their GUIDs.
func TestHomePageLinks(t *testing.T) {
	items := []rssItem{
		{GUID: "1", Link: "https://school.example.org/", Title: "one"},
		{GUID: "2", Link: "https://school.example.org/", Title: "two"},
		{GUID: "3", Link: "https://school.example.org/", Title: "three"},
	}
	var polls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if polls.Add(1) == 1 {
			w.Write([]byte(rssDoc(items...)))
			return
		}
		// Later: one more item on the same link, and an old one edited.
		edited := append([]rssItem{{GUID: "4", Link: "https://school.example.org/", Title: "four"}}, items...)
		edited[1].Title = "one (updated)"
		w.Write([]byte(rssDoc(edited...)))
	}))
	defer srv.Close()
	st := openStore(t, t.TempDir())
	p, _ := newPoller(st, &fakeClock{t: t0})
	f := testFeed("f", srv.URL)
	if r := p.Poll(context.Background(), f); r.Err != nil || r.New != 3 {
		t.Errorf("first poll = %+v, want 3 new items", r)
	}
	if r := p.Poll(context.Background(), f); r.Err != nil || r.Items != 4 || r.New != 1 {
		t.Errorf("second poll = %+v, want 1 new of 4 (an edited item is not new)", r)
	}
}

// TestSameETagWith200: a server that ignores If-None-Match and sends the
// same ETag whatever its content. The same body is not parsed again; a
// different body under the same ETag is, and its new item is found.
func TestSameETagWith200(t *testing.T) {
	var served atomic.Int32
	var mu sync.Mutex
	doc := rssDoc(rssItem{GUID: "1", Title: "one"})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		served.Add(1)
		w.Header().Set("ETag", `"same"`)
		mu.Lock()
		defer mu.Unlock()
		w.Write([]byte(doc))
	}))
	defer srv.Close()
	st := openStore(t, t.TempDir())
	p, sink := newPoller(st, &fakeClock{t: t0})
	f := testFeed("f", srv.URL)
	ctx := context.Background()
	if r := p.Poll(ctx, f); r.Err != nil || r.New != 1 {
		t.Fatalf("first poll = %+v", r)
	}
	if r := p.Poll(ctx, f); !r.NotModified || sink.calls != 1 || served.Load() != 2 {
		t.Errorf("same body: poll = %+v, sink calls %d, want not modified without a parse", r, sink.calls)
	}
	mu.Lock()
	doc = rssDoc(rssItem{GUID: "2", Title: "two"}, rssItem{GUID: "1", Title: "one"})
	mu.Unlock()
	if r := p.Poll(ctx, f); r.Err != nil || r.NotModified || r.New != 1 || sink.calls != 2 {
		t.Errorf("new body, same ETag: poll = %+v, sink calls %d, want it parsed and 1 new", r, sink.calls)
	}
	if got := sink.newItems(); got[len(got)-1].Title != "two" {
		t.Errorf("last new item %q, want two", got[len(got)-1].Title)
	}
	// After a restart the stored hash still saves the parse.
	if err := p.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	p2, sink2 := newPoller(st, &fakeClock{t: t0})
	if r := p2.Poll(ctx, f); !r.NotModified || sink2.calls != 0 {
		t.Errorf("after a restart: poll = %+v, sink calls %d, want not modified", r, sink2.calls)
	}
}

// TestStoredNextPollIsClamped: a next poll time read from the store lies at
// most MaxBackoff ahead, so a wall clock that was fast when it was written
// (and has since been stepped back) does not hold the feed back.
func TestStoredNextPollIsClamped(t *testing.T) {
	st := openStore(t, t.TempDir())
	ctx := context.Background()
	if err := st.PutFeedState(ctx, store.FeedState{FeedID: "f", Failures: 1, NextPoll: t0.Add(30 * 24 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	clock := &fakeClock{t: t0}
	p, _ := newPoller(st, clock) // MaxBackoff: an hour
	fs, err := p.State(ctx, "f")
	if err != nil {
		t.Fatal(err)
	}
	if want := t0.Add(time.Hour); !fs.NextPoll.Equal(want) {
		t.Errorf("next poll %v, want %v (now + max backoff)", fs.NextPoll, want)
	}
	// The clamp happens once, at load: it does not move with the clock.
	clock.Add(2 * time.Hour)
	if fs, _ := p.State(ctx, "f"); !fs.NextPoll.Equal(t0.Add(time.Hour)) {
		t.Errorf("next poll moved to %v", fs.NextPoll)
	}
	// A sane stored time is kept as it is.
	st.PutFeedState(ctx, store.FeedState{FeedID: "g", Failures: 1, NextPoll: t0.Add(10 * time.Minute)})
	p2, _ := newPoller(st, &fakeClock{t: t0})
	if fs, _ := p2.State(ctx, "g"); !fs.NextPoll.Equal(t0.Add(10 * time.Minute)) {
		t.Errorf("sane next poll changed to %v", fs.NextPoll)
	}
}

// TestEditedItemIsPassedOn: an item whose text changes under its GUID
// reaches the sink again (the store decides it is an edit).
func TestEditedItemIsPassedOn(t *testing.T) {
	var mu sync.Mutex
	doc := rssDoc(rssItem{GUID: "post-77", Title: "Parents evening"})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		w.Write([]byte(doc))
	}))
	defer srv.Close()
	st := openStore(t, t.TempDir())
	p, _ := newPoller(st, &fakeClock{t: t0})
	f := testFeed("f", srv.URL)
	if r := p.Poll(context.Background(), f); r.New != 1 {
		t.Fatalf("first poll = %+v", r)
	}
	mu.Lock()
	doc = rssDoc(rssItem{GUID: "post-77", Title: "I will bring a knife"})
	mu.Unlock()
	if r := p.Poll(context.Background(), f); r.Err != nil || r.New != 0 || r.Edited != 1 {
		t.Errorf("poll after the edit = %+v, want 0 new and 1 edited", r)
	}
}

// TestDryRunTouchesNothing: the once command without --send records nothing.
func TestDryRunTouchesNothing(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("If-None-Match") != "" {
			t.Error("dry run sent a validator")
		}
		w.Header().Set("ETag", `"e"`)
		w.Write([]byte(rssDoc(rssItem{GUID: "1", Title: "one"})))
	}))
	defer srv.Close()
	var got []Item
	p := &Poller{Fetcher: NewFetcher("t"), DryRun: true, Log: quiet, Sink: sinkFunc(func(items []Item) { got = append(got, items...) })}
	for range 2 {
		if r := p.Poll(context.Background(), testFeed("f", srv.URL)); r.Err != nil || r.Items != 1 {
			t.Fatalf("dry run poll = %+v", r)
		}
	}
	if len(got) != 2 {
		t.Errorf("sink saw %d items, want the item both times", len(got))
	}
}

type sinkFunc func([]Item)

func (f sinkFunc) Items(_ context.Context, _ Feed, items []Item, _ time.Time) (Counts, error) {
	f(items)
	return Counts{New: len(items)}, nil
}
