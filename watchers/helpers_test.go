package watchers

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/robfig/cron/v3"
	"github.com/schoolwatch/schoolwatch/store"
)

// storeSink records items in the real store, as the daemon's intake does,
// without matching: every new item would alert.
type storeSink struct {
	st     *store.Store
	forget bool // keep no items (benchmarks)

	mu    sync.Mutex
	calls int
	items []Item // new ones, in order
}

func (s *storeSink) Items(ctx context.Context, f Feed, items []Item, now time.Time) (Counts, error) {
	recs := make([]store.Item, len(items))
	for i, it := range items {
		recs[i] = store.Item{Key: it.Key, AltKeys: it.AltKeys, FeedID: it.FeedID, Published: it.Published, Content: it.Fingerprint, Alert: !it.TooOld}
	}
	outs, err := s.st.Record(ctx, now, recs)
	if err != nil {
		return Counts{}, err
	}
	var c Counts
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls++
	for i, it := range items {
		if outs[i].Edited {
			c.Edited++
		}
		if outs[i].New {
			c.New++
			if !s.forget {
				s.items = append(s.items, it)
			}
			if it.TooOld {
				c.TooOld++
			}
		}
	}
	return c, nil
}

func (s *storeSink) newItems() []Item {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Item(nil), s.items...)
}

// openStore opens a fresh SQLite store in dir, or with
// SCHOOLWATCH_TEST_DRIVER=postgres (under pg_virtualenv) a fresh schema of
// the Postgres database the PG* variables name: for measuring the
// benchmarks on Postgres.
func openStore(t testing.TB, dir string) *store.Store {
	t.Helper()
	open := func() (*store.Store, error) { return store.Open(context.Background(), filepath.Join(dir, "sw.db")) }
	if os.Getenv("SCHOOLWATCH_TEST_DRIVER") == store.DriverPostgres {
		schema := fmt.Sprintf("swbench_%d_%d", os.Getpid(), time.Now().UnixNano())
		admin, err := store.OpenPostgresDB("")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := admin.Exec(`CREATE SCHEMA ` + schema); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { admin.Exec(`DROP SCHEMA ` + schema + ` CASCADE`); admin.Close() })
		open = func() (*store.Store, error) { return store.OpenPostgres(context.Background(), "search_path="+schema) }
	}
	st, err := open()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

var quiet = slog.New(slog.DiscardHandler)

// fakeClock is a settable clock for backoff arithmetic.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func newPoller(st *store.Store, clock *fakeClock) (*Poller, *storeSink) {
	sink := &storeSink{st: st}
	fe := NewFetcher("schoolwatch-test (+https://example.org/contact)")
	fe.Now = clock.Now
	p := &Poller{Store: st, Fetcher: fe, Sink: sink, Now: clock.Now, MaxBackoff: time.Hour, Log: quiet}
	return p, sink
}

// rssItem is one entry of a generated RSS document; empty fields are left out.
type rssItem struct {
	GUID, Link, Title, Desc, PubDate string
}

func rssDoc(items ...rssItem) string {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>Test</title><link>https://news.example.org/</link>`)
	for _, it := range items {
		b.WriteString("<item>")
		for _, f := range []struct{ tag, v string }{{"guid", it.GUID}, {"link", it.Link}, {"title", it.Title}, {"description", it.Desc}, {"pubDate", it.PubDate}} {
			if f.v != "" {
				fmt.Fprintf(&b, "<%s><![CDATA[%s]]></%s>", f.tag, f.v, f.tag)
			}
		}
		b.WriteString("</item>")
	}
	b.WriteString("</channel></rss>")
	return b.String()
}

func testFeed(id, url string) Feed {
	return Feed{ID: id, Name: id, URL: url, Schedule: cron.Every(15 * time.Minute), Timeout: 5 * time.Second, MaxItemAge: 72 * time.Hour}
}
