package blackbox

import (
	"fmt"
	"testing"
	"time"

	"github.com/schoolwatch/schoolwatch/alerts/smtptest"
)

// TestSMTPOutage takes the SMTP server away for several poll cycles while
// new items keep arriving, then brings it back: every alert arrives, exactly
// once.
func TestSMTPOutage(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	fs := serveFeeds(t)
	srv := smtptest.Start(t)
	port := freePort(t)
	cfg := config{Dir: dir, Port: port, SMTP: srv.Addr, Feeds: []feedConfig{{ID: "news", URL: fs.URL + "/news.xml"}}}.write(t)
	want := expect{}
	add := func(school string, n int) {
		tk := fmt.Sprintf("TKsmtp-%d", n)
		fs.Add("/news.xml", threatItem(school, tk))
		want.add(school, tk)
	}
	add("oak", 1)
	add("river", 2)
	d := start(t, cfg, port, nil)
	d.waitReady()
	waitMail(t, srv, want, 20*time.Second)
	// Take the server away only once the daemon has recorded those mails as
	// sent: closing it between its acceptance and the client reading "250"
	// is the at-least-once window TestKill9 measures, not an outage.
	eventually(t, 10*time.Second, "the mails to be marked sent", func() bool {
		return d.metric("schoolwatch_alerts_total", `result="sent"`) >= float64(srv.Count()) && d.metric("schoolwatch_outbox_depth") == 0
	})

	srv.Close()
	polls := d.metric("schoolwatch_polls_total", `result="ok"`)
	add("oak", 3)
	add("river", 4)
	// Several poll cycles and several failed attempts pass while it is down.
	eventually(t, 20*time.Second, "retries during the outage", func() bool {
		return d.metric("schoolwatch_alerts_total", `result="retried"`) >= 3 && d.metric("schoolwatch_polls_total", `result="ok"`) >= polls+3
	})
	add("oak", 5)
	eventually(t, 10*time.Second, "the outbox to hold the mail of the outage", func() bool {
		return d.metric("schoolwatch_outbox_depth") >= 3
	})
	if err := srv.Restart(); err != nil {
		t.Fatal(err)
	}
	add("river", 6)
	l := waitMail(t, srv, want, 30*time.Second)
	eventually(t, 10*time.Second, "an empty outbox", func() bool { return d.metric("schoolwatch_outbox_depth") == 0 })
	d.stop()

	l = tally(t, srv.Messages())
	if tw := l.twice(); len(tw) > 0 {
		t.Errorf("alerts that arrived in more than one mail: %v", tw)
	}
	if l.resent > 0 {
		t.Errorf("%d mails arrived twice with the same Message-ID", l.resent)
	}
	if u := l.unexpected(want); len(u) > 0 {
		t.Errorf("unexpected alerts: %v", u)
	}
	if !d.ready() && d.running() {
		t.Error("not ready after the outage")
	}
	assertPrivateLogs(t, d.log.String(), "bring a knife", "Worrying post")
}
