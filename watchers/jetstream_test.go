package watchers

import (
	"context"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/robfig/cron/v3"
	"github.com/schoolwatch/schoolwatch/store"
	"github.com/schoolwatch/schoolwatch/watchers/jetstreamtest"
)

const (
	didA = "did:plc:eygmaihciaxprqvxpfvl6flk"
	didB = "did:plc:z72i7hdynmk6r22z27h6tvur"
)

// streamScript is a stream as the issue describes it: posts, a like, an
// identity event, a delete and an account event; only the posts naming
// Oakwood may pass Relevant.
func streamScript(t0 time.Time) []jetstreamtest.Event {
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	return []jetstreamtest.Event{
		jetstreamtest.Post(didA, "3l3qo2vutsw2a", "Someone said they will bring a knife to Oakwood Academy tomorrow", at(0)),
		jetstreamtest.Like(didA, "3l3qo2vutsw2b", "Oakwood Academy knife", at(10)),
		jetstreamtest.Identity(didB, "parent.bsky.social", at(20)),
		jetstreamtest.Post(didB, "3l3qo2vutsw2c", "Oakwood Academy\u202e lockdown\x07 this morning", at(30)),
		jetstreamtest.Post(didB, "3l3qo2vutsw2d", "Lovely weather at the beach", at(40)),
		jetstreamtest.Delete(didA, "3l3qo2vutsw2a", at(50)),
		jetstreamtest.Account(didA, at(60)),
		{TimeUS: at(70).UnixMicro(), JSON: []byte(`{"did":"did:plc:x","time_us":` + "not-json")},
	}
}

func streamPoller(t *testing.T, st *store.Store) (*Poller, *storeSink) {
	sink := &storeSink{st: st}
	return &Poller{Store: st, Sink: sink, Log: quiet, MaxBackoff: time.Hour}, sink
}

func runStream(t *testing.T, s *Stream) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { s.Run(ctx); close(done) }()
	return func() { cancel(); <-done }
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func oakwood(text string) bool { return strings.Contains(text, "Oakwood") }

// TestStreamPostsReconnectAndRestart: created posts become items with their
// bsky.app link, DID or handle and date; likes, deletes, identity and
// account events do not; a dropped connection resumes with a cursor a few
// seconds before the last event recorded, the replay adds nothing; and a
// new Stream on the same store (a restart) resumes from the stored cursor.
func TestStreamPostsReconnectAndRestart(t *testing.T) {
	t0 := time.Now().Add(-time.Minute).Truncate(time.Millisecond)
	events := streamScript(t0)
	last := events[len(events)-2].TimeUS // the invalid event moves nothing
	srv := jetstreamtest.NewServer(func(n int, c jetstreamtest.Conn) jetstreamtest.Script {
		if n == 0 {
			return jetstreamtest.Script{Events: events} // then closes
		}
		return jetstreamtest.Script{Events: jetstreamtest.From(events, c.Cursor), Hold: true}
	})
	defer srv.Close()

	st := openStore(t, t.TempDir())
	p, sink := streamPoller(t, st)
	f := Feed{ID: "bluesky", Name: "Bluesky", Stream: true, URL: srv.URL + "?wantedDids=" + didA, Timeout: 5 * time.Second, MaxItemAge: 72 * time.Hour}
	var mu sync.Mutex
	var batches []Result
	s := &Stream{Feed: f, Poller: p, Relevant: oakwood, FlushEvery: 10 * time.Millisecond, OnBatch: func(r Result) { mu.Lock(); batches = append(batches, r); mu.Unlock() }}
	stop := runStream(t, s)
	<-srv.Sent(1)
	waitUntil(t, "the replay to be read", func() bool {
		fs, _ := p.State(context.Background(), f.ID)
		return fs.ItemsSeen == 6 // 3 posts, twice
	})
	stop()

	got := sink.newItems()
	if len(got) != 2 {
		t.Fatalf("%d new items, want the 2 posts naming Oakwood: %+v", len(got), got)
	}
	a, b := got[0], got[1]
	if a.Link != "https://bsky.app/profile/"+didA+"/post/3l3qo2vutsw2a" || a.Author != didA || a.FeedName != "Bluesky" {
		t.Errorf("first post = link %q author %q where %q", a.Link, a.Author, a.FeedName)
	}
	if !a.Dated || !a.Published.Equal(t0) || a.TooOld {
		t.Errorf("first post published %v (dated %v, too old %v), want %v", a.Published, a.Dated, a.TooOld, t0)
	}
	if b.Author != "parent.bsky.social" {
		t.Errorf("second post's author = %q, want the handle the identity event gave", b.Author)
	}
	if b.Text != "Oakwood Academy lockdown this morning" {
		t.Errorf("second post's text = %q: bidi and control characters must go", b.Text)
	}
	if a.Key == b.Key || !strings.HasPrefix(a.Key, "g:bluesky:") {
		t.Errorf("keys %q, %q", a.Key, b.Key)
	}

	conns := srv.Conns()
	if len(conns) != 2 {
		t.Fatalf("%d connections, want 2", len(conns))
	}
	if q := conns[0].Query; q.Get("wantedCollections") != PostCollection || q.Get("wantedDids") != didA || q.Has("cursor") {
		t.Errorf("first connection's query = %v: want posts only, the feed's own parameters kept, no cursor", q)
	}
	if c := conns[1].Cursor; c == 0 || c > last || c < last-StreamRewind.Microseconds() {
		t.Errorf("reconnect cursor = %d, want at or a few seconds before the last event %d", c, last)
	}
	fs, _ := p.State(context.Background(), f.ID)
	if fs.Cursor != last || fs.Failures != 0 || fs.LastSuccess.IsZero() {
		t.Errorf("state after the replay: cursor %d (want %d), failures %d, last success %v", fs.Cursor, last, fs.Failures, fs.LastSuccess)
	}
	mu.Lock()
	for _, r := range batches {
		if r.Err != nil {
			t.Errorf("batch failed: %v", r.Err)
		}
	}
	mu.Unlock()

	// A restart: the deferred state is written as the Scheduler does when
	// it stops, and a new Poller and Stream on the same store resume.
	if err := p.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	p2, sink2 := streamPoller(t, st)
	s2 := &Stream{Feed: f, Poller: p2, Relevant: oakwood, FlushEvery: 10 * time.Millisecond}
	stop = runStream(t, s2)
	<-srv.Sent(2)
	waitUntil(t, "the restarted stream to read the replay", func() bool {
		fs, _ := p2.State(context.Background(), f.ID)
		return fs.ItemsSeen == 9
	})
	stop()
	if c := srv.Conns()[2].Cursor; c != last-StreamRewind.Microseconds() {
		t.Errorf("cursor after a restart = %d, want the stored %d less %v", c, last, StreamRewind)
	}
	if n := len(sink2.newItems()); n != 0 {
		t.Errorf("the replay after a restart gave %d new items, want none", n)
	}
}

// TestStreamHealth: a stream that cannot connect is failing after
// failures_before_notice attempts, with the server's class; once it
// connects and posts arrive it is ok; connected but silent (only pings
// answered) past quiet_after it is quiet.
func TestStreamHealth(t *testing.T) {
	refuse := true
	var mu sync.Mutex
	t0 := time.Now().Add(-time.Minute)
	srv := jetstreamtest.NewServer(func(n int, c jetstreamtest.Conn) jetstreamtest.Script {
		mu.Lock()
		defer mu.Unlock()
		if refuse {
			return jetstreamtest.Script{Status: 503}
		}
		return jetstreamtest.Script{Events: []jetstreamtest.Event{jetstreamtest.Post(didA, "3l3qo2vutsw2a", "hello", t0)}, Hold: true}
	})
	defer srv.Close()
	st := openStore(t, t.TempDir())
	clock := &fakeClock{t: time.Now()}
	p, _ := streamPoller(t, st)
	p.Now = clock.Now
	f := Feed{ID: "bluesky", Stream: true, URL: srv.URL, Timeout: 5 * time.Second, QuietAfter: time.Hour}
	s := &Stream{Feed: f, Poller: p, FlushEvery: 10 * time.Millisecond, RetryAfter: time.Millisecond, PingEvery: 20 * time.Millisecond}
	stop := runStream(t, s)
	defer stop()
	var policy HealthPolicy
	state := func() store.FeedState {
		fs, err := p.State(context.Background(), f.ID)
		if err != nil {
			t.Fatal(err)
		}
		return fs
	}
	// Failures are written to the store as they happen (not deferred):
	// the health loop and the status command read them there.
	var fs store.FeedState
	waitUntil(t, "three failed connections in the store", func() bool {
		fs, _, _ = st.FeedState(context.Background(), f.ID)
		return fs.Failures >= 3
	})
	if h := policy.Evaluate(fs, f, clock.Now()); h != HealthFailing || fs.ErrorClass != ClassThrottled {
		t.Errorf("refused stream: health %v, class %q; want failing, throttled", h, fs.ErrorClass)
	}

	mu.Lock()
	refuse = false
	mu.Unlock()
	waitUntil(t, "the stream to recover", func() bool { return state().Failures == 0 && state().ItemsSeen == 1 })
	if h := policy.Evaluate(state(), f, clock.Now()); h != HealthOK {
		t.Errorf("recovered stream: health %v, want ok", h)
	}
	// Silent but connected: pings are answered, no post arrives.
	clock.Add(2 * time.Hour)
	waitUntil(t, "a ping after the clock moved", func() bool { return state().LastSuccess.Equal(clock.Now()) })
	if h := policy.Evaluate(state(), f, clock.Now()); h != HealthQuiet {
		t.Errorf("silent stream: health %v, want quiet", h)
	}
}

func TestSubscribeURL(t *testing.T) {
	u, err := SubscribeURL("wss://jetstream2.us-east.bsky.network/subscribe?wantedCollections=app.bsky.feed.like&cursor=5&compress=true", 1725911162329308)
	if err != nil {
		t.Fatal(err)
	}
	pu, _ := url.Parse(u)
	q := pu.Query()
	if q.Get("wantedCollections") != PostCollection || q.Get("cursor") != "1725911157329308" || q.Has("compress") || len(q["wantedCollections"]) != 1 {
		t.Errorf("SubscribeURL = %s", u)
	}
	if u, _ := SubscribeURL("ws://127.0.0.1:1/subscribe", 0); strings.Contains(u, "cursor") {
		t.Errorf("no cursor yet, but %s", u)
	}
}

// TestStreamDecodeHostile: ids that are not a DID or record key, a
// handle that is not a domain, and dates in the future are refused or
// neutralised; a link is always a bsky.app URL built from checked parts.
func TestStreamDecodeHostile(t *testing.T) {
	now := time.Now()
	s := &Stream{Feed: Feed{ID: "b", Stream: true, MaxItemAge: time.Hour}}
	for _, ev := range []jetstreamtest.Event{
		jetstreamtest.Post("did:plc:x/../../evil", "3l3", "Oakwood", now),
		jetstreamtest.Post(didA, "a/b?c", "Oakwood", now),
		jetstreamtest.Post(didA, "..", "Oakwood", now),
		{TimeUS: 0, JSON: []byte(`{"did":"` + didA + `","kind":"commit"}`)},
	} {
		if _, kind := s.decode(ev.JSON, now); kind != StreamInvalid {
			t.Errorf("%s decoded as %s, want invalid", ev.JSON, kind)
		}
	}
	id := jetstreamtest.Identity(didA, "evil handle\n<script>", now)
	s.decode(id.JSON, now)
	if len(s.handles) != 0 {
		t.Errorf("a malformed handle was kept: %v", s.handles)
	}
	future := jetstreamtest.Post(didA, "3l3qo2vutsw2a", "text", now.Add(48*time.Hour))
	ev, _ := s.decode(future.JSON, now)
	if ev.item == nil || ev.item.Dated || ev.item.Published.After(now.Add(time.Hour)) {
		t.Errorf("a post dated in the future: %+v", ev.item)
	}
	old := jetstreamtest.Post(didA, "3l3qo2vutsw2b", "text", now.Add(-2*time.Hour))
	if ev, _ := s.decode(old.JSON, now); ev.item == nil || !ev.item.TooOld {
		t.Errorf("a post older than max_item_age is not marked too old: %+v", ev.item)
	}
}

// TestPollAllPassesOverStreams: the once command's cycle does not connect
// to a stream; its result says why.
func TestPollAllPassesOverStreams(t *testing.T) {
	srv := jetstreamtest.NewServer(func(int, jetstreamtest.Conn) jetstreamtest.Script { return jetstreamtest.Script{} })
	defer srv.Close()
	p, _ := streamPoller(t, openStore(t, t.TempDir()))
	f := Feed{ID: "bluesky", Stream: true, URL: srv.URL, Schedule: cron.Every(15 * time.Minute), Timeout: time.Second}
	res := (&Scheduler{Poller: p, Feeds: []Feed{f}}).PollAll(context.Background())
	if len(res) != 1 || !res[0].Stream || res[0].Err != nil || !strings.Contains(res[0].String(), "not polled") {
		t.Errorf("PollAll = %+v (%s)", res, res[0])
	}
	if n := len(srv.Conns()); n != 0 {
		t.Errorf("PollAll connected to the stream %d times", n)
	}
}
