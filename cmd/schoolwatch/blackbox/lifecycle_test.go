package blackbox

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/schoolwatch/schoolwatch/alerts/smtptest"
	"github.com/schoolwatch/schoolwatch/store"
)

// TestReloadWithBrokenConfig sends SIGHUP after breaking the config file:
// the old config keeps running, the error is logged and the reload metric
// counts the failure; a good config then reloads.
func TestReloadWithBrokenConfig(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	fs := serveFeeds(t)
	srv := smtptest.Start(t)
	port := freePort(t)
	c := config{Dir: dir, Port: port, SMTP: srv.Addr, Feeds: []feedConfig{{ID: "news", URL: fs.URL + "/news.xml"}}}
	path := c.write(t)
	d := start(t, path, port, nil)
	d.waitReady()

	good, _ := os.ReadFile(path)
	broken := strings.Replace(string(good), "rules:\n", "rules:\n  - { id: bad, query: '(knife OR', guidance: no-such-section }\n", 1)
	broken = strings.Replace(broken, "group_wait: 0s", "group_wait: soon", 1)
	for i, text := range []string{broken, "schools: [ {{{ not yaml"} {
		if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		d.signal(syscall.SIGHUP)
		eventually(t, 10*time.Second, "the failed reload to be counted", func() bool {
			return d.metric("schoolwatch_config_reloads_total", `result="failure"`) == float64(i+1)
		})
	}
	if got := d.metric("schoolwatch_config_reloads_total", `result="success"`); got != 0 {
		t.Errorf("successful reloads = %v, want 0", got)
	}
	logs := d.log.String()
	for _, want := range []string{"config reload failed", "mail.group_wait", "previous config keeps running"} {
		if !strings.Contains(logs, want) {
			t.Errorf("the logs lack %q", want)
		}
	}
	if !d.ready() {
		t.Error("not ready after a failed reload")
	}
	// The old config still polls and mails.
	want := expect{}
	fs.Add("/news.xml", threatItem("oak", "TKhup-1"))
	want.add("oak", "TKhup-1")
	waitMail(t, srv, want, 20*time.Second)

	// A good config reloads, and its change takes effect: a second feed.
	c.Feeds = append(c.Feeds, feedConfig{ID: "social", URL: fs.URL + "/social.xml"})
	c.write(t)
	d.signal(syscall.SIGHUP)
	eventually(t, 10*time.Second, "the reload to succeed", func() bool {
		return d.metric("schoolwatch_config_reloads_total", `result="success"`) == 1
	})
	fs.Add("/social.xml", threatItem("river", "TKhup-2"))
	want.add("river", "TKhup-2")
	waitMail(t, srv, want, 20*time.Second)
	d.stop()
	if l := tally(t, srv.Messages()); len(l.twice()) > 0 || l.resent > 0 {
		t.Errorf("duplicates across reloads: %v, %d resends", l.twice(), l.resent)
	}
}

// TestSIGTERMDuringSending stops the daemon while the SMTP server holds a
// message mid-DATA: the daemon finishes that send, drains the rest of the
// outbox, and exits 0, leaving nothing pending in the outbox.
func TestSIGTERMDuringSending(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	fs := serveFeeds(t)
	release := make(chan struct{})
	inData := make(chan struct{}, 16)
	var once sync.Once
	srv := smtptest.StartWith(t, smtptest.Options{BeforeData: func() {
		inData <- struct{}{}
		<-release
	}})
	t.Cleanup(func() { once.Do(func() { close(release) }) })
	port := freePort(t)
	cfg := config{Dir: dir, Port: port, SMTP: srv.Addr, Feeds: []feedConfig{{ID: "news", URL: fs.URL + "/news.xml"}}}.write(t)
	want := expect{}
	for i, school := range []string{"oak", "river", "oak"} {
		tk := fmt.Sprintf("TKterm-%d", i)
		fs.Add("/news.xml", threatItem(school, tk))
		want.add(school, tk)
	}
	d := start(t, cfg, port, nil)
	select {
	case <-inData:
	case <-time.After(20 * time.Second):
		t.Fatal("no mail reached DATA")
	}
	// Three mails (Oakfield's head and DSL, Riverside's principal) are queued.
	eventually(t, 10*time.Second, "three mails queued", func() bool { return strings.Count(d.log.String(), "mail queued") >= 3 })
	d.signal(syscall.SIGTERM)
	// Once the signal is handled the scheduler stops and /readyz says so,
	// while the send in flight still waits in DATA.
	eventually(t, 10*time.Second, "the daemon to stop being ready", func() bool { return !d.ready() })
	once.Do(func() { close(release) })
	go func() { // later mails pass straight through
		for range inData {
		}
	}()
	if code := d.wait(30 * time.Second); code != 0 {
		t.Fatalf("exit code %d, want 0", code)
	}
	l := waitMail(t, srv, want, time.Second)
	if tw := l.twice(); len(tw) > 0 || l.resent > 0 {
		t.Errorf("duplicates: %v, %d resends", tw, l.resent)
	}
	st, err := store.Open(context.Background(), filepath.Join(dir, "sw.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if p, err := st.Messages(ctx(t), store.StatusPending, 10); err != nil || len(p) != 0 {
		t.Errorf("outbox after the drain: %d pending (%v)", len(p), err)
	}
}
