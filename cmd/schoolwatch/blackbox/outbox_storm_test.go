package blackbox

import (
	"database/sql"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/schoolwatch/schoolwatch/alerts/smtptest"
)

// smtpGate stands between the daemon and the SMTP server on 127.0.0.1 and
// counts the daemon's connections, one per delivery attempt. Closed, it
// hangs up on each connection before the greeting (a temporary failure);
// open, it relays to the server.
type smtpGate struct {
	ln     net.Listener
	target string
	open   atomic.Bool
	conns  atomic.Int64
	wg     sync.WaitGroup
}

func startGate(t *testing.T, target string) *smtpGate {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	g := &smtpGate{ln: ln, target: target}
	g.wg.Add(1)
	go g.serve()
	t.Cleanup(func() {
		ln.Close()
		g.wg.Wait()
	})
	return g
}

func (g *smtpGate) Addr() string { return g.ln.Addr().String() }

func (g *smtpGate) serve() {
	defer g.wg.Done()
	for {
		c, err := g.ln.Accept()
		if err != nil {
			return
		}
		g.conns.Add(1)
		if !g.open.Load() {
			c.Close()
			continue
		}
		g.wg.Add(1)
		go func() {
			defer g.wg.Done()
			defer c.Close()
			s, err := net.Dial("tcp", g.target)
			if err != nil {
				return
			}
			defer s.Close()
			done := make(chan struct{})
			go func() {
				io.Copy(s, c)
				s.(*net.TCPConn).CloseWrite()
				close(done)
			}()
			io.Copy(c, s)
			c.(*net.TCPConn).CloseWrite()
			<-done
		}()
	}
}

// readyz returns /readyz's status code and body.
func readyz(d *daemon) (int, string) {
	resp, err := client.Get(d.url("/readyz"))
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// assertOnce fails for every Message-ID the server received more than once.
func assertOnce(t *testing.T, srv *smtptest.Server, when string) *ledger {
	t.Helper()
	l := tally(t, srv.Messages())
	for id, n := range l.copies {
		if n > 1 {
			t.Errorf("%s: %s delivered %d times", when, id, n)
		}
	}
	return l
}

// TestOutboxStoreFullNoStorm: the store's disk fills while mail waits in
// the outbox and the SMTP server is down (F1). The daemon must not spin:
// its delivery attempts stay spaced by mail.retry; once the server answers
// it sends at most one copy of each mail, pauses with /readyz failing and
// the failure logged once; with room on the disk again it sends the rest,
// each once. A SIGTERM while the disk is full does not resend either:
// the shutdown drain waits for the store instead of sending.
//
// Before the fix: 13,363 attempts in 4 s with the server down, and 1,576
// copies of one alert in 5 s once it answered.
func TestOutboxStoreFullNoStorm(t *testing.T) {
	t.Parallel()
	disk := smallDisk(t, "16m")
	dir := t.TempDir()
	fs := serveFeeds(t)
	srv := smtptest.Start(t)
	gate := startGate(t, srv.Addr)
	port := freePort(t)
	dbPath := filepath.Join(disk, "sw.db")
	cfg := config{Dir: dir, Port: port, SMTP: gate.Addr(), Store: dbPath, Feeds: []feedConfig{{ID: "news", URL: fs.URL + "/news.xml"}}}.write(t)
	want := expect{}
	fs.Add("/news.xml", threatItem("oak", "TKstorm-1"), threatItem("river", "TKstorm-2"))
	want.add("oak", "TKstorm-1")
	want.add("river", "TKstorm-2")
	d := start(t, cfg, port, nil)
	d.waitReady()
	// Three mails (Oakfield's head and DSL, Riverside's principal), each
	// tried at least once against the closed gate.
	eventually(t, 20*time.Second, "three mails waiting after a failed attempt", func() bool {
		return d.metric("schoolwatch_outbox_depth") == 3 && d.metric("schoolwatch_alerts_total", `result="retried"`) >= 3
	})

	// 1. Disk full, server down: attempts stay spaced by the backoff
	// (200 ms doubling to 2 s), and stop at the first failure of each pass.
	filler := fill(t, disk)
	eventually(t, 20*time.Second, "/readyz to report the outbox", func() bool {
		code, body := readyz(d)
		return code == http.StatusServiceUnavailable && strings.Contains(body, "outbox")
	})
	before := gate.conns.Load()
	window := time.Now()
	time.Sleep(3 * time.Second) // a window to count attempts in, not a wait for an event
	attempts := gate.conns.Load() - before
	t.Logf("disk full, server down: %d delivery attempts in %v", attempts, time.Since(window).Round(time.Millisecond))
	if attempts > 12 {
		t.Errorf("%d delivery attempts in 3s with the store full and retry.max 2s: the outbox spins", attempts)
	}

	// 2. The server answers: at most one copy of any mail, then a pause.
	gate.open.Store(true)
	eventually(t, 20*time.Second, "a first mail through the gate", func() bool { return srv.Count() >= 1 })
	before = gate.conns.Load()
	time.Sleep(4 * time.Second) // the window in which the old sender resent 1,576 copies
	attempts = gate.conns.Load() - before
	l := assertOnce(t, srv, "disk full")
	t.Logf("disk full, server up: %d mails, %d resends, %d delivery attempts in 4s", l.messages, l.resent, attempts)
	if attempts > 12 {
		t.Errorf("%d delivery attempts in 4s with the store full: the outbox spins", attempts)
	}
	if code, body := readyz(d); code != http.StatusServiceUnavailable || !strings.Contains(body, "outbox") {
		t.Errorf("/readyz = %d %q while delivered mail cannot be recorded", code, body)
	}
	logs := d.log.String()
	if n := strings.Count(logs, "the store failed"); n < 1 || n > 2 {
		t.Errorf("the store failure was logged %d times in ~10s, want once (at most once a minute)", n)
	}
	if !strings.Contains(logs, "full") {
		t.Error(`the logs do not say the disk is full`)
	}

	// 3. Room again: every mail arrives, each once, and the daemon is ready.
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	waitMail(t, srv, want, 30*time.Second)
	eventually(t, 20*time.Second, "an empty outbox", func() bool { return d.metric("schoolwatch_outbox_depth") == 0 })
	eventually(t, 20*time.Second, "ready again once the disk has room", d.ready)
	l = assertOnce(t, srv, "after the disk was freed")
	if l.messages != 3 {
		t.Errorf("%d mails for 3 alerts", l.messages)
	}

	// 4. Shutdown on a full disk: a mail accepted just before is not sent
	// again by the 20 s drain, which waits instead of spinning.
	gate.open.Store(false)
	retried := d.metric("schoolwatch_alerts_total", `result="retried"`)
	fs.Add("/news.xml", threatItem("river", "TKstorm-3"))
	want.add("river", "TKstorm-3")
	eventually(t, 20*time.Second, "the new mail waiting after a failed attempt", func() bool {
		return d.metric("schoolwatch_outbox_depth") == 1 && d.metric("schoolwatch_alerts_total", `result="retried"`) > retried
	})
	filler = fill(t, disk)
	gate.open.Store(true)
	eventually(t, 20*time.Second, "the new mail through the gate", func() bool { return srv.Count() >= 4 })
	eventually(t, 20*time.Second, "/readyz to report the unrecorded delivery", func() bool {
		code, body := readyz(d)
		return code == http.StatusServiceUnavailable && strings.Contains(body, "not yet recorded")
	})
	before = gate.conns.Load()
	stopped := time.Now()
	d.signal(syscall.SIGTERM)
	code := d.wait(40 * time.Second)
	t.Logf("SIGTERM on a full disk: exit %d after %v, %d delivery attempts during the drain", code, time.Since(stopped).Round(time.Millisecond), gate.conns.Load()-before)
	if code != 0 {
		t.Errorf("exit code %d after SIGTERM, want 0", code)
	}
	if n := gate.conns.Load() - before; n > 0 {
		t.Errorf("%d delivery attempts during the shutdown drain on a full disk, want 0", n)
	}
	l = assertOnce(t, srv, "after shutdown")
	if len(l.missing(want)) > 0 || l.messages != 4 {
		t.Errorf("%d mails, missing %v; want 4, none missing", l.messages, l.missing(want))
	}
	if !strings.Contains(d.log.String(), "sent again at the next start") {
		t.Error("the shutdown does not say which delivered mail could not be recorded")
	}
	if err := os.Remove(filler); err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	integrity(t, dbPath)
}

// TestOutboxRetryAfterClockStepBack: retry deadlines stored six hours
// ahead (a clock that was fast when they were written, corrected since)
// do not hold the mail for six hours: once the server answers, the mail
// goes within mail.retry.max (2 s here) of its next look (F17).
func TestOutboxRetryAfterClockStepBack(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	fs := serveFeeds(t)
	srv := smtptest.Start(t)
	gate := startGate(t, srv.Addr)
	port := freePort(t)
	cfg := config{Dir: dir, Port: port, SMTP: gate.Addr(), Feeds: []feedConfig{{ID: "news", URL: fs.URL + "/news.xml"}}}.write(t)
	want := expect{}
	fs.Add("/news.xml", threatItem("oak", "TKclock-1"))
	want.add("oak", "TKclock-1")
	d := start(t, cfg, port, nil)
	d.waitReady()
	eventually(t, 20*time.Second, "two mails waiting after a failed attempt", func() bool {
		return d.metric("schoolwatch_outbox_depth") == 2 && d.metric("schoolwatch_alerts_total", `result="retried"`) >= 2
	})
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "sw.db")+"?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	res, err := db.Exec(`UPDATE outbox SET next_attempt = next_attempt + ? WHERE status = 'pending'`, int64(6*time.Hour/time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := res.RowsAffected(); n != 2 {
		t.Fatalf("shifted %d deadlines, want 2", n)
	}
	db.Close()
	gate.open.Store(true)
	waitMail(t, srv, want, 15*time.Second)
	d.stop()
	assertOnce(t, srv, "after the clock step")
}
