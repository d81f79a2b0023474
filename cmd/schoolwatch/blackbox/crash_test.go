package blackbox

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/schoolwatch/schoolwatch/alerts/smtptest"
)

// TestKill9 kills the daemon with SIGKILL at random points, 20 times, while
// new items keep appearing. Afterwards every expected alert has arrived and
// none arrived in two different mails. A mail resent with the same
// Message-ID is the documented at-least-once window (killed between the
// SMTP server's acceptance and "marked sent"); it is counted and logged.
func TestKill9(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	fs := serveFeeds(t)
	srv := smtptest.Start(t)
	port := freePort(t)
	cfg := config{Dir: dir, Port: port, SMTP: srv.Addr, Feeds: []feedConfig{
		{ID: "news", URL: fs.URL + "/news.xml"},
		{ID: "social", URL: fs.URL + "/social.xml"},
	}}.write(t)

	var mu sync.Mutex
	want := expect{}
	n := 0
	add := func() {
		mu.Lock()
		defer mu.Unlock()
		n++
		school := []string{"oak", "river"}[n%2]
		tk := fmt.Sprintf("TKkill-%d", n)
		fs.Add([]string{"/news.xml", "/social.xml"}[n%3%2], threatItem(school, tk))
		want.add(school, tk)
	}
	// Items keep appearing, independently of the kills.
	stop := make(chan struct{})
	producing := make(chan struct{})
	go func() {
		defer close(producing)
		tick := time.NewTicker(40 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				add()
			}
		}
	}()

	seed := uint64(time.Now().UnixNano())
	t.Logf("kill points seeded with %d", seed)
	rng := rand.New(rand.NewPCG(seed, 8))
	logs := &logBuffer{}
	for i := range 20 {
		d := start(t, cfg, port, logs)
		// Random points: before it is ready, mid-poll, mid-send, idle.
		delay := time.Duration(rng.Int64N(int64(1500 * time.Millisecond)))
		select {
		case <-d.done:
			t.Fatalf("iteration %d: the daemon exited by itself: %v", i, d.err)
		case <-time.After(delay):
		}
		d.kill()
	}
	close(stop)
	<-producing

	d := start(t, cfg, port, logs)
	d.waitReady()
	mu.Lock()
	final := want
	mu.Unlock()
	waitMail(t, srv, final, 60*time.Second)
	eventually(t, 10*time.Second, "an empty outbox", func() bool { return d.metric("schoolwatch_outbox_depth") == 0 })
	d.stop()

	l := tally(t, srv.Messages())
	if tw := l.twice(); len(tw) > 0 {
		t.Errorf("alerts that arrived in more than one distinct mail: %v", tw)
	}
	if u := l.unexpected(final); len(u) > 0 {
		t.Errorf("unexpected alerts: %v", u)
	}
	t.Logf("%d items, %d alerts expected, %d mails received, %d of them resends of a Message-ID already received (the at-least-once window)",
		n, len(final), l.messages, l.resent)
	assertPrivateLogs(t, logs.String(), "bring a knife", "Worrying post")
}
