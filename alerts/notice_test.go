package alerts

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/schoolwatch/schoolwatch/alerts/smtptest"
	"github.com/schoolwatch/schoolwatch/mail"
	"github.com/schoolwatch/schoolwatch/store"
	"github.com/schoolwatch/schoolwatch/watchers"
)

func TestPlanNotices(t *testing.T) {
	now := time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)
	failing := FeedHealth{Feed: watchers.Feed{ID: "f"}, State: store.FeedState{FailingSince: now.Add(-time.Hour), ErrorClass: "http_5xx"}, Health: watchers.HealthFailing}
	quiet := FeedHealth{Feed: watchers.Feed{ID: "f"}, State: store.FeedState{LastNewItem: now.Add(-8 * 24 * time.Hour)}, Health: watchers.HealthQuiet}
	ok := FeedHealth{Feed: watchers.Feed{ID: "f"}, Health: watchers.HealthOK}
	unknown := FeedHealth{Feed: watchers.Feed{ID: "f"}, Health: watchers.HealthUnknown}
	logged := func(cond string, sent time.Time) map[string]store.FeedNotice {
		return map[string]store.FeedNotice{"f": {FeedID: "f", Condition: cond, Since: now.Add(-time.Hour), LastSent: sent}}
	}
	tests := []struct {
		name        string
		fh          FeedHealth
		log         map[string]store.FeedNotice
		wantKind    string // "" = no entry
		wantCleared bool
	}{
		{"healthy and never notified", ok, nil, "", false},
		{"never polled", unknown, nil, "", false},
		{"starts failing", failing, nil, NoticeFailing, false},
		{"starts quiet", quiet, nil, NoticeQuiet, false},
		{"still failing within the day", failing, logged(NoticeFailing, now.Add(-23*time.Hour)), "", false},
		{"still failing a day later", failing, logged(NoticeFailing, now.Add(-24*time.Hour)), NoticeReminder, false},
		{"failing turns quiet", quiet, logged(NoticeFailing, now.Add(-time.Hour)), NoticeQuiet, false},
		{"recovers", ok, logged(NoticeFailing, now.Add(-time.Hour)), NoticeRecovered, true},
		{"unknown keeps the log", unknown, logged(NoticeFailing, now.Add(-time.Hour)), "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			entries, put, cleared := PlanNotices([]FeedHealth{tt.fh}, tt.log, now)
			var kind string
			if len(entries) == 1 {
				kind = entries[0].Kind
			} else if len(entries) > 1 {
				t.Fatalf("%d entries for one feed", len(entries))
			}
			if kind != tt.wantKind {
				t.Errorf("kind = %q, want %q", kind, tt.wantKind)
			}
			if (len(cleared) == 1) != tt.wantCleared {
				t.Errorf("cleared = %v", cleared)
			}
			if kind != "" && kind != NoticeRecovered && (len(put) != 1 || !put[0].LastSent.Equal(now)) {
				t.Errorf("put = %+v, want the feed logged as sent now", put)
			}
		})
	}
}

// healthRig drives real polls of httptest feeds through a watchers.Poller,
// evaluates health and sends notices over SMTP to a real server, with a fake
// clock. restart closes and reopens the store and rebuilds everything.
type healthRig struct {
	t        *testing.T
	path     string
	now      time.Time
	feeds    []watchers.Feed
	st       *store.Store
	poller   *watchers.Poller
	notifier *Notifier
	sender   *mail.Sender
	reg      *prometheus.Registry
	sink     *seenSink
}

func newHealthRig(t *testing.T, srv *smtptest.Server, feeds []watchers.Feed) *healthRig {
	r := &healthRig{t: t, path: filepath.Join(t.TempDir(), "sw.db"), now: time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC), feeds: feeds, sink: &seenSink{seen: map[string]bool{}}}
	r.open(srv)
	t.Cleanup(func() { r.st.Close() })
	return r
}

func (r *healthRig) open(srv *smtptest.Server) {
	st, err := store.Open(context.Background(), r.path)
	if err != nil {
		r.t.Fatal(err)
	}
	r.st = st
	clock := func() time.Time { return r.now }
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	r.poller = &watchers.Poller{Store: st, Fetcher: watchers.NewFetcher("test"), Sink: r.sink, Now: clock, MaxBackoff: time.Hour, Log: quiet}
	r.reg = prometheus.NewRegistry()
	r.notifier = &Notifier{Letterhead: letterheadAt(clock), Store: st, To: "ops@example.org", Metrics: NewMetrics(r.reg)}
	r.sender = mail.NewSender(st, smtpDeliverer(r.t, srv), time.Second, time.Minute, nil, nil)
	r.sender.Now = clock
}

func (r *healthRig) restart(srv *smtptest.Server) {
	r.st.Close()
	r.open(srv)
}

// cycle polls every feed, evaluates, notifies and drains the outbox; it
// returns how many mails were sent.
func (r *healthRig) cycle() int {
	r.t.Helper()
	ctx := context.Background()
	for _, f := range r.feeds {
		r.poller.Poll(ctx, f)
	}
	if err := r.poller.Flush(ctx); err != nil {
		r.t.Fatal(err)
	}
	return r.evaluate()
}

func (r *healthRig) evaluate() int {
	r.t.Helper()
	ctx := context.Background()
	fh, err := feedHealthOf(r.st, r.feeds)(ctx, r.now)
	if err != nil {
		r.t.Fatal(err)
	}
	if _, err := r.notifier.Queue(ctx, fh); err != nil {
		r.t.Fatal(err)
	}
	n, err := r.sender.Drain(ctx)
	if err != nil {
		r.t.Fatal(err)
	}
	return n
}

// feedHealthOf evaluates feeds from their stored states with the default
// policy, as the daemon does.
func feedHealthOf(st *store.Store, feeds []watchers.Feed) func(context.Context, time.Time) ([]FeedHealth, error) {
	return func(ctx context.Context, at time.Time) ([]FeedHealth, error) {
		var out []FeedHealth
		for _, f := range feeds {
			s, _, err := st.FeedState(ctx, f.ID)
			if err != nil {
				return nil, err
			}
			out = append(out, FeedHealth{Feed: f, State: s, Health: watchers.HealthPolicy{}.Evaluate(s, f, at)})
		}
		return out, nil
	}
}

// seenSink counts items not seen before; its memory outlives restarts,
// standing in for the store's seen items.
type seenSink struct {
	mu   sync.Mutex
	seen map[string]bool
}

func (s *seenSink) Items(_ context.Context, _ watchers.Feed, items []watchers.Item, _ time.Time) (watchers.Counts, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var c watchers.Counts
	for _, it := range items {
		if !s.seen[it.Key] {
			s.seen[it.Key] = true
			c.New++
		}
	}
	return c, nil
}

// switchFeed serves 500 while broken is set, else a valid RSS feed whose
// item changes with gen.
type switchFeed struct {
	broken atomic.Bool
	gen    atomic.Int64
}

func (s *switchFeed) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	if s.broken.Load() {
		http.Error(w, "boom", http.StatusInternalServerError)
		return
	}
	g := s.gen.Load()
	w.Header().Set("Content-Type", "application/rss+xml")
	fmt.Fprintf(w, `<?xml version="1.0"?><rss version="2.0"><channel><title>t</title><link>http://x.invalid/</link><description>d</description>
<item><title>post %d</title><link>http://x.invalid/%d</link><guid>g%d</guid><description>hello</description></item></channel></rss>`, g, g, g)
}

func subjectOf(t *testing.T, m smtptest.Message) string {
	t.Helper()
	pm, err := m.Parse()
	if err != nil {
		t.Fatal(err)
	}
	s, _ := new(mime.WordDecoder).DecodeHeader(pm.Header.Get("Subject"))
	return s
}

func TestNoticeFailingRemindRecover(t *testing.T) {
	srv := smtptest.Start(t)
	feed := &switchFeed{}
	feed.broken.Store(true)
	hs := httptest.NewServer(feed)
	t.Cleanup(hs.Close)
	r := newHealthRig(t, srv, []watchers.Feed{{ID: "news", Name: "Local news", URL: hs.URL + "/feed.xml", Timeout: 5 * time.Second}})

	for i := 1; i <= 2; i++ {
		if n := r.cycle(); n != 0 {
			t.Fatalf("poll %d of a failing feed sent %d mails before the threshold", i, n)
		}
		r.now = r.now.Add(time.Minute)
	}
	if n := r.cycle(); n != 1 {
		t.Fatalf("third failure sent %d mails, want 1 notice", n)
	}
	msgs := srv.Messages()
	if s := subjectOf(t, msgs[0]); s != "[schoolwatch] feed news is failing" {
		t.Errorf("subject = %q", s)
	}
	body := string(msgs[0].Data)
	for _, w := range []string{"Local news", "http_5xx", "Since:", "What to check"} {
		if !strings.Contains(body, w) {
			t.Errorf("notice lacks %q:\n%s", w, body)
		}
	}
	if msgs[0].To[0] != "ops@example.org" {
		t.Errorf("notice went to %v", msgs[0].To)
	}

	// More failures within the day, across a restart: nothing new.
	r.now = r.now.Add(time.Hour)
	r.cycle()
	r.restart(srv)
	r.now = r.now.Add(10 * time.Hour)
	if n := r.cycle(); n != 0 || srv.Count() != 1 {
		t.Fatalf("within the day: %d more mails (server has %d)", n, srv.Count())
	}

	// A day after the notice: one reminder, then quiet again.
	r.now = r.now.Add(14 * time.Hour)
	if n := r.cycle(); n != 1 {
		t.Fatalf("a day later: %d mails, want 1 reminder", n)
	}
	if s := subjectOf(t, srv.Since(1)[0]); !strings.Contains(s, "news is failing") || !strings.Contains(string(srv.Since(1)[0].Data), "daily reminder") {
		t.Errorf("reminder subject %q", s)
	}
	r.now = r.now.Add(time.Minute)
	if n := r.cycle(); n != 0 {
		t.Fatalf("right after the reminder: %d mails", n)
	}

	// It serves a valid feed again: one recovery notice.
	feed.broken.Store(false)
	r.now = r.now.Add(time.Hour)
	if n := r.cycle(); n != 1 {
		t.Fatalf("recovery: %d mails, want 1", n)
	}
	if s := subjectOf(t, srv.Since(2)[0]); s != "[schoolwatch] feed news is working again" {
		t.Errorf("recovery subject = %q", s)
	}
	r.restart(srv)
	r.now = r.now.Add(time.Minute)
	if n := r.cycle(); n != 0 || srv.Count() != 3 {
		t.Fatalf("after recovery and restart: %d more mails (server has %d)", n, srv.Count())
	}
	if got := gathered(t, r.reg, "schoolwatch_feeds", "ok"); got != 1 {
		t.Errorf("schoolwatch_feeds{state=ok} = %v", got)
	}
}

func TestNoticeQuietFeed(t *testing.T) {
	srv := smtptest.Start(t)
	feed := &switchFeed{}
	hs := httptest.NewServer(feed)
	t.Cleanup(hs.Close)
	r := newHealthRig(t, srv, []watchers.Feed{{ID: "blog", URL: hs.URL + "/feed.xml", Timeout: 5 * time.Second, QuietAfter: 7 * 24 * time.Hour}})
	for day := 0; day < 7; day++ {
		if n := r.cycle(); n != 0 {
			t.Fatalf("day %d: %d mails from a feed within quiet_after", day, n)
		}
		r.now = r.now.Add(24 * time.Hour)
	}
	r.now = r.now.Add(time.Minute)
	if n := r.cycle(); n != 1 {
		t.Fatalf("past quiet_after: %d mails, want 1", n)
	}
	if s := subjectOf(t, srv.Messages()[0]); s != "[schoolwatch] feed blog is quiet" {
		t.Errorf("subject = %q", s)
	}
	r.restart(srv)
	r.now = r.now.Add(time.Hour)
	if n := r.cycle(); n != 0 {
		t.Fatalf("quiet feed after restart: %d more mails", n)
	}
	// A new item ends the quiet spell.
	feed.gen.Add(1)
	r.now = r.now.Add(time.Hour)
	if n := r.cycle(); n != 1 || !strings.Contains(subjectOf(t, srv.Since(1)[0]), "working again") {
		t.Fatalf("new item: %d mails", n)
	}
}

func TestNoticeGroupsFeedsFailingTogether(t *testing.T) {
	srv := smtptest.Start(t)
	feed := &switchFeed{}
	feed.broken.Store(true)
	hs := httptest.NewServer(feed)
	t.Cleanup(hs.Close)
	var feeds []watchers.Feed
	for i := range 10 {
		feeds = append(feeds, watchers.Feed{ID: fmt.Sprintf("f%02d", i), URL: fmt.Sprintf("%s/%d.xml", hs.URL, i), Timeout: 5 * time.Second})
	}
	r := newHealthRig(t, srv, feeds)
	sent := 0
	for range 3 {
		sent += r.cycle()
		r.now = r.now.Add(time.Minute)
	}
	if sent != 1 {
		t.Fatalf("ten feeds failing together sent %d mails, want 1", sent)
	}
	m := srv.Messages()[0]
	if s := subjectOf(t, m); s != "[schoolwatch] 10 feeds need attention" {
		t.Errorf("subject = %q", s)
	}
	for _, f := range feeds {
		if !strings.Contains(string(m.Data), f.ID) {
			t.Errorf("notice does not name %s", f.ID)
		}
	}
	if got := gathered(t, r.reg, "schoolwatch_notices_total", NoticeFailing); got != 10 {
		t.Errorf("schoolwatch_notices_total{kind=failing} = %v", got)
	}
}

// A crash after enqueueing but before the notice log is written re-plans
// the same mail; the outbox keeps one.
func TestNoticeCrashBeforeLogIsNotDuplicated(t *testing.T) {
	st, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "sw.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	now := time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)
	fh := []FeedHealth{{Feed: watchers.Feed{ID: "f"}, State: store.FeedState{Failures: 3, FailingSince: now}, Health: watchers.HealthFailing}}
	n := &Notifier{Letterhead: Letterhead{From: "a@example.org", Now: func() time.Time { return now }}, Store: st, To: "ops@example.org"}
	if added, err := n.Queue(context.Background(), fh); err != nil || !added {
		t.Fatalf("first: %v, %v", added, err)
	}
	// Forget the log, as if the process died before writing it.
	if err := st.UpdateFeedNotices(context.Background(), nil, []string{"f"}); err != nil {
		t.Fatal(err)
	}
	now = now.Add(time.Hour)
	if added, err := n.Queue(context.Background(), fh); err != nil || added {
		t.Fatalf("retry: added=%v, %v; want the duplicate dropped", added, err)
	}
}

// gathered returns the value of the series of name whose one label is label.
func gathered(t *testing.T, reg *prometheus.Registry, name, label string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			if len(m.GetLabel()) == 1 && m.GetLabel()[0].GetValue() == label {
				if g := m.GetGauge(); g != nil {
					return g.GetValue()
				}
				return m.GetCounter().GetValue()
			}
		}
	}
	t.Fatalf("no %s{%q}", name, label)
	return 0
}
