package blackbox

import (
	"context"
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/schoolwatch/schoolwatch/alerts/smtptest"
	"github.com/schoolwatch/schoolwatch/store"
)

var (
	emailRE = regexp.MustCompile(`[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+`)
	titleRE = regexp.MustCompile(`(?s)<(?:title|summary|content|description)[^>]*>(.*?)</`)
)

// TestLogsArePrivate runs the example config against the demo feeds at
// info level, with a refused and a retried delivery on the way, and scans
// everything the daemon printed for the posts' text and for email
// addresses: neither belongs in operators' logs.
func TestLogsArePrivate(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	demo := filepath.Join("..", "..", "..", "examples", "feeds")
	feeds := httptest.NewServer(http.FileServer(http.Dir(demo)))
	t.Cleanup(feeds.Close)
	srv := smtptest.Start(t)
	srv.Reply(451, 550) // one delivery retried, one refused for good
	port := freePort(t)

	b, err := os.ReadFile(filepath.Join("..", "..", "..", "schoolwatch.example.yml"))
	if err != nil {
		t.Fatal(err)
	}
	cfg := string(b)
	for old, new := range map[string]string{
		"file://examples/feeds/local-news.xml": feeds.URL + "/local-news.xml",
		"file://examples/feeds/community.atom": feeds.URL + "/community.atom",
		"listen: 127.0.0.1:9464":               fmt.Sprintf("listen: 127.0.0.1:%d", port),
		"group_wait: 2m":                       "group_wait: 0s",
		"retry: { initial: 5s, max: 10m }":     "retry: { initial: 200ms, max: 1s }",
		"  dir: var/mail\n":                    fmt.Sprintf("  dir: var/mail\n  smtp: { host: %s, port: %d, tls: none }\n", srv.Host(), srv.Port()),
	} {
		if !strings.Contains(cfg, old) {
			t.Fatalf("the example config no longer contains %q; update this test", old)
		}
		cfg = strings.Replace(cfg, old, new, 1)
	}
	path := filepath.Join(dir, "schoolwatch.yml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	d := start(t, path, port, nil)
	d.waitReady()
	// The demo produces four immediate mails; one of them is refused.
	srv.WaitFor(3, 30*time.Second)
	eventually(t, 20*time.Second, "the demo mails to be delivered or refused", func() bool {
		return d.metric("schoolwatch_alerts_total", `result="sent"`)+d.metric("schoolwatch_alerts_total", `result="failed"`) >= 4 &&
			d.metric("schoolwatch_alerts_total", `result="retried"`) >= 1
	})
	d.stop()
	logs := d.log.String()

	if addrs := emailRE.FindAllString(logs, 5); len(addrs) > 0 {
		t.Errorf("the logs contain email addresses: %v", addrs)
	}
	var texts []string
	for _, f := range []string{"local-news.xml", "community.atom"} {
		b, err := os.ReadFile(filepath.Join(demo, f))
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range titleRE.FindAllStringSubmatch(string(b), -1) {
			s := strings.TrimSpace(html.UnescapeString(strings.TrimSuffix(strings.TrimPrefix(m[1], "<![CDATA["), "]]>")))
			if len(s) >= 24 {
				texts = append(texts, s[:24])
			}
		}
	}
	if len(texts) < 5 {
		t.Fatalf("found only %d post texts in the demo feeds", len(texts))
	}
	for _, s := range texts {
		if strings.Contains(logs, s) {
			t.Errorf("the logs contain post text %q", s)
		}
	}
}

// TestRetention writes old and recent records through the store API, starts
// the daemon with store.retention 720h, and checks what the purge at start
// removed: seen items, the alert log and the bodies of sent and failed
// mail older than the retention; nothing recent.
func TestRetention(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "sw.db")
	now := time.Now()
	old := now.Add(-800 * time.Hour)
	c := context.Background()
	st, err := store.Open(c, dbPath)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.RecordItems(c, old, []store.Item{{Key: "old-item", FeedID: "news"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.RecordItems(c, now, []store.Item{{Key: "new-item", FeedID: "news"}}); err != nil {
		t.Fatal(err)
	}
	msg := func(key string) store.Message {
		return store.Message{Key: key, Kind: "alert", Recipient: oakHead, Subject: "s", Raw: []byte("Subject: s\r\n\r\nBody naming a pupil\r\n")}
	}
	for _, m := range []struct {
		key    string
		at     time.Time
		status string
	}{{"old-sent", old, store.StatusSent}, {"old-failed", old, store.StatusFailed}, {"new-sent", now, store.StatusSent}} {
		if _, err := st.Enqueue(c, m.at, msg(m.key), nil, []string{m.key + "-item"}); err != nil {
			t.Fatal(err)
		}
		due, err := st.DueCapped(c, now, 0, 10)
		if err != nil || len(due) != 1 {
			t.Fatalf("due = %v, %v", due, err)
		}
		if m.status == store.StatusSent {
			err = st.MarkSent(c, due[0].ID, m.at)
		} else {
			err = st.MarkFailed(c, due[0].ID, "550")
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	st.Close()

	port := freePort(t)
	cfg := config{Dir: dir, Port: port, Retain: "720h", Feeds: []feedConfig{{ID: "news", URL: "http://127.0.0.1:1/none.xml"}}}.write(t)
	d := start(t, cfg, port, nil)
	d.waitReady()
	eventually(t, 10*time.Second, "the purge at start", func() bool {
		return d.metric("schoolwatch_store_last_purge_timestamp_seconds") > 0
	})
	// old-item, two old mails, two old alert-log rows.
	if n := d.metric("schoolwatch_store_purged_rows_total"); n != 5 {
		t.Errorf("purged rows = %v, want 5", n)
	}
	d.stop()

	st, err = store.Open(c, dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for key, want := range map[string]bool{"old-item": false, "new-item": true} {
		if seen, err := st.Seen(c, key); err != nil || seen != want {
			t.Errorf("item %s seen = %v (%v), want %v", key, seen, err, want)
		}
	}
	ms, err := st.Messages(c, "", 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != 1 || ms[0].Key != "new-sent" {
		var keys []string
		for _, m := range ms {
			keys = append(keys, m.Key)
		}
		t.Errorf("mail kept after the purge: %v, want [new-sent]", keys)
	}
	// The alert log forgot the old mail's item (a pending finding for it is
	// accepted again) but remembers the recent one.
	for key, want := range map[string]int{"old-sent-item": 1, "new-sent-item": 0} {
		p := store.Pending{Recipient: oakHead, SchoolID: "100001", ItemKey: key, RuleID: "threat", Delivery: "digest", Payload: []byte("{}")}
		if _, err := st.RecordItems(c, now, []store.Item{{Key: key, FeedID: "news", Alert: true, Pending: []store.Pending{p}}}); err != nil {
			t.Fatal(err)
		}
		ps, _ := st.ListPending(c, "digest")
		n := 0
		for _, q := range ps {
			if q.ItemKey == key {
				n++
			}
		}
		if n != want {
			t.Errorf("pending rows for %s after re-adding = %d, want %d (alert log purge)", key, n, want)
		}
	}
}
