package alerts

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/robfig/cron/v3"

	"github.com/schoolwatch/schoolwatch/alerts/smtptest"
	"github.com/schoolwatch/schoolwatch/mail"
	"github.com/schoolwatch/schoolwatch/store"
	"github.com/schoolwatch/schoolwatch/watchers"
)

func TestHeartbeatOncePerScheduleWithCounts(t *testing.T) {
	ctx := context.Background()
	srv := smtptest.Start(t)
	path := filepath.Join(t.TempDir(), "sw.db")
	st, err := store.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { st.Close() }()
	to := time.Date(2026, 11, 30, 8, 0, 0, 0, time.UTC)
	from := to.Add(-7 * 24 * time.Hour)
	schools := []School{
		{ID: "1", Name: "Oak Primary", Leaders: []Leader{
			{Name: "A Head", Email: "head@oak.example.org", Roles: []string{"head"}, Heartbeat: true},
			{Name: "No Mail", Email: "nomail@oak.example.org", Roles: []string{"dsl"}, Heartbeat: false},
		}},
		{ID: "2", Name: "Elm Academy", Leaders: []Leader{{Name: "E Head", Email: "head@elm.example.org", Roles: []string{"head"}, Heartbeat: true}}},
	}
	feeds := []watchers.Feed{{ID: "news"}, {ID: "reddit/1", SchoolID: "1"}, {ID: "reddit/2", SchoolID: "2"}}
	// news: 3 items in the period and 1 before it; reddit/1: 2 items;
	// reddit/2: failing, no items.
	record := func(feed string, n int, at time.Time) {
		var items []store.Item
		for i := range n {
			key := fmt.Sprintf("%s-%d-%d", feed, at.Unix(), i)
			items = append(items, store.Item{Key: key, Content: "fp-" + key, FeedID: feed, Published: at})
		}
		if _, err := st.RecordItems(ctx, at, items); err != nil {
			t.Fatal(err)
		}
	}
	record("news", 3, from.Add(time.Hour))
	record("news", 1, from.Add(-time.Hour))
	record("reddit/1", 2, to.Add(-time.Hour))
	if err := st.PutFeedStates(ctx,
		store.FeedState{FeedID: "news", LastPoll: to, LastSuccess: to, LastNewItem: to},
		store.FeedState{FeedID: "reddit/1", LastPoll: to, LastSuccess: to, LastNewItem: to},
		store.FeedState{FeedID: "reddit/2", LastPoll: to, Failures: 4, ErrorClass: "http_5xx", FailingSince: from},
	); err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	metrics := NewMetrics(reg)
	hb := func() *Heartbeat {
		return &Heartbeat{Letterhead: letterheadAt(func() time.Time { return to }), Store: st, Schools: schools, Feeds: feedHealthOf(st, feeds),
			Metrics: metrics}
	}
	if n, err := hb().Queue(ctx, from, to); err != nil || n != 2 {
		t.Fatalf("first send: %d, %v; want one per leader with heartbeat on (2)", n, err)
	}
	// Retried, and after a restart: nothing more for the same schedule.
	if n, err := hb().Queue(ctx, from, to); err != nil || n != 0 {
		t.Fatalf("retry: %d, %v", n, err)
	}
	st.Close()
	if st, err = store.Open(ctx, path); err != nil {
		t.Fatal(err)
	}
	if n, err := hb().Queue(ctx, from, to); err != nil || n != 0 {
		t.Fatalf("after restart: %d, %v", n, err)
	}
	s := mail.NewSender(st, smtpDeliverer(t, srv), time.Second, time.Minute, nil, nil)
	s.Now = func() time.Time { return to }
	if n, err := s.Drain(ctx); err != nil || n != 2 {
		t.Fatalf("drain: %d, %v", n, err)
	}
	got := map[string]string{}
	for _, m := range srv.Messages() {
		got[m.To[0]] = subjectOf(t, m) + "\n" + string(m.Data)
	}
	if _, ok := got["nomail@oak.example.org"]; ok {
		t.Error("a leader with heartbeat: false got a heartbeat")
	}
	oak, elm := got["head@oak.example.org"], got["head@elm.example.org"]
	for _, w := range []string{"[schoolwatch] weekly check-in: all quiet\n", "Oak Primary", "Sources watched: 2", "New posts checked: 5", "Nothing matched", "Every source worked"} {
		if !strings.Contains(oak, w) {
			t.Errorf("Oak heartbeat lacks %q:\n%s", w, oak)
		}
	}
	for _, w := range []string{"some sources not working", "Sources watched: 2", "New posts checked: 3", "Sources not working: reddit/2"} {
		if !strings.Contains(elm, w) {
			t.Errorf("Elm heartbeat lacks %q:\n%s", w, elm)
		}
	}
	if got := gathered(t, reg, "schoolwatch_notices_total", "heartbeat"); got != 2 {
		t.Errorf("schoolwatch_notices_total{kind=heartbeat} = %v", got)
	}
	// The next schedule sends again.
	if n, err := hb().Queue(ctx, to, to.Add(7*24*time.Hour)); err != nil || n != 2 {
		t.Fatalf("next week: %d, %v", n, err)
	}
}

// TestHeartbeatCatchUp: a heartbeat whose time passed while the daemon was
// down is sent when it starts, once, and never on a fresh install.
func TestHeartbeatCatchUp(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(t.TempDir(), "sw.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	sched, err := cron.ParseStandard("0 7 * * 1") // Mondays 07:00
	if err != nil {
		t.Fatal(err)
	}
	monday := time.Date(2026, 11, 30, 7, 0, 0, 0, time.UTC)
	now := monday.Add(3 * time.Hour) // started at 10:00, three hours late
	schools := []School{{ID: "1", Name: "Oak Primary", Leaders: []Leader{{Name: "A Head", Email: "head@oak.example.org", Roles: []string{"head"}, Heartbeat: true}}}}
	hb := &Heartbeat{Letterhead: Letterhead{From: "schoolwatch <alerts@example.org>", Host: "test.invalid", Now: func() time.Time { return now }}, Store: st, Schools: schools, Feeds: feedHealthOf(st, []watchers.Feed{{ID: "news"}})}

	// A fresh install: nothing seen before Monday, so nothing to report.
	if n, err := hb.CatchUp(ctx, sched, now); err != nil || n != 0 {
		t.Fatalf("fresh install: %d, %v; want no heartbeat", n, err)
	}
	// Watching since the Wednesday before.
	if _, err := st.RecordItems(ctx, monday.Add(-5*24*time.Hour), []store.Item{{Key: "g:1", Content: "fp-1", FeedID: "news"}}); err != nil {
		t.Fatal(err)
	}
	if n, err := hb.CatchUp(ctx, sched, now); err != nil || n != 1 {
		t.Fatalf("missed Monday: %d, %v; want 1", n, err)
	}
	// Started again (a reload), and the scheduled run itself: no second mail.
	if n, err := hb.CatchUp(ctx, sched, now.Add(time.Hour)); err != nil || n != 0 {
		t.Fatalf("second start: %d, %v", n, err)
	}
	if n, err := hb.Queue(ctx, Period(sched, monday), monday); err != nil || n != 0 {
		t.Fatalf("scheduled send after catch-up: %d, %v", n, err)
	}
	msgs, err := st.Messages(ctx, "", 10)
	if err != nil || len(msgs) != 1 {
		t.Fatalf("outbox: %d messages, %v", len(msgs), err)
	}
	if !strings.Contains(string(msgs[0].Raw), "New posts checked: 1") || !strings.Contains(string(msgs[0].Raw), "Mon 23 Nov") {
		t.Errorf("caught-up heartbeat does not cover the week to Monday:\n%s", msgs[0].Raw)
	}
}

func TestLastRun(t *testing.T) {
	loc, _ := time.LoadLocation("Europe/London")
	for _, tc := range []struct {
		spec string
		now  time.Time
		want time.Time
	}{
		{"0 7 * * 1", time.Date(2026, 11, 30, 10, 0, 0, 0, loc), time.Date(2026, 11, 30, 7, 0, 0, 0, loc)},
		{"0 7 * * 1", time.Date(2026, 11, 30, 7, 0, 0, 0, loc), time.Date(2026, 11, 30, 7, 0, 0, 0, loc)},
		{"0 7 * * 1", time.Date(2026, 11, 30, 6, 59, 0, 0, loc), time.Date(2026, 11, 23, 7, 0, 0, 0, loc)},
		{"30 8 * * 1,4", time.Date(2026, 11, 29, 12, 0, 0, 0, loc), time.Date(2026, 11, 26, 8, 30, 0, 0, loc)},
		{"0 9 1 * *", time.Date(2026, 11, 25, 12, 0, 0, 0, loc), time.Date(2026, 11, 1, 9, 0, 0, 0, loc)},
	} {
		sched, err := cron.ParseStandard(tc.spec)
		if err != nil {
			t.Fatal(err)
		}
		if got, ok := lastRun(sched, tc.now); !ok || !got.Equal(tc.want) {
			t.Errorf("lastRun(%q, %v) = %v, %v; want %v", tc.spec, tc.now, got, ok, tc.want)
		}
	}
}
