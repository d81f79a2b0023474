package blackbox

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	smtp "github.com/emersion/go-smtp"

	"github.com/schoolwatch/schoolwatch/store"
)

// Secrets a feed URL carries in the tests below.
const (
	feedKey  = "SECRETFEEDKEY"
	feedPass = "SECRETFEEDPASS"
	feedUser = "SECRETFEEDUSER"
)

// rcptRefuser is an SMTP server (go-smtp, on 127.0.0.1) that refuses every
// recipient as Postfix does, quoting the address in the reply:
// "550 5.1.1 <head@…>: Recipient address rejected: …".
type rcptRefuser struct{}

func (rcptRefuser) NewSession(*smtp.Conn) (smtp.Session, error) { return refuserSession{}, nil }

type refuserSession struct{}

func (refuserSession) Mail(string, *smtp.MailOptions) error { return nil }
func (refuserSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1},
		Message: "<" + to + ">: Recipient address rejected: User unknown in local recipient table"}
}
func (refuserSession) Data(r io.Reader) error { _, err := io.Copy(io.Discard, r); return err }
func (refuserSession) Reset()                 {}
func (refuserSession) Logout() error          { return nil }

func startRefuser(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := smtp.NewServer(rcptRefuser{})
	srv.Domain = "refuser.test"
	srv.ReadTimeout, srv.WriteTimeout = 10*time.Second, 10*time.Second
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return ln.Addr().String()
}

// runCombined runs the binary like runCLI, with stdout and stderr together.
func runCombined(t *testing.T, args ...string) (string, int) {
	t.Helper()
	stdout, stderr, code := runCLI(t, args...)
	return stdout + stderr, code
}

// TestSecretsStayOutOfLogsStatusAndStore (F11) runs the daemon with feeds
// whose URLs carry a key in the query and credentials in the userinfo,
// all failing (connection refused, a redirect loop), and an SMTP server
// that refuses every leader with the address in its 550 reply. Neither the
// leaders' addresses nor the URL secrets may appear in the daemon's logs,
// in `status` or `once` output, in the store file's bytes, or in the
// outbox's recorded errors; the redacted forms must, so the checks are
// not vacuous.
func TestSecretsStayOutOfLogsStatusAndStore(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	fs := serveFeeds(t)
	fs.Add("/news.xml", threatItem("oak", "TKf11-1"))
	fs.Handle("/loop", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, r.URL.String(), http.StatusFound)
	}))
	dead := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	smtpAddr := startRefuser(t)
	port := freePort(t)
	c := config{Dir: dir, Port: port, SMTP: smtpAddr, Feeds: []feedConfig{
		{ID: "news", URL: fs.URL + "/news.xml"},
		{ID: "keyed", URL: "http://" + dead + "/s?key=" + feedKey},
		{ID: "creds", URL: "http://" + feedUser + ":" + feedPass + "@" + dead + "/c?token=" + feedKey},
		{ID: "loop", URL: fs.URL + "/loop?key=" + feedKey},
	}}
	path := c.write(t)
	d := start(t, path, port, nil)
	d.waitReady()
	eventually(t, 30*time.Second, "both alerts to be refused and every secret feed to fail", func() bool {
		return d.metric("schoolwatch_alerts_total", `result="failed"`) >= 2 &&
			d.metric("schoolwatch_polls_total", `feed="keyed"`, `result="error"`) >= 1 &&
			d.metric("schoolwatch_polls_total", `feed="creds"`, `result="error"`) >= 1 &&
			d.metric("schoolwatch_polls_total", `feed="loop"`, `class="redirect"`) >= 1
	})
	d.stop()
	logs := d.log.String()

	status, code := runCombined(t, "status", "-config", path)
	if code != 0 {
		t.Fatalf("status: exit %d\n%s", code, status)
	}
	once, _ := runCombined(t, "once", "-config", path)

	db := readStoreFiles(t, filepath.Join(dir, "sw.db"))
	secrets := []string{feedKey, feedPass, feedUser}
	for what, text := range map[string]string{"daemon logs": logs, "status output": status, "once output": once, "store file": db} {
		for _, s := range secrets {
			if strings.Contains(text, s) {
				t.Errorf("the %s contain %q", what, s)
			}
		}
	}
	for what, text := range map[string]string{"daemon logs": logs, "status output": status, "once output": once} {
		if addrs := emailRE.FindAllString(text, 5); len(addrs) > 0 {
			t.Errorf("the %s contain email addresses: %v", what, addrs)
		}
		if !strings.Contains(text, "key=REDACTED") {
			t.Errorf("the %s lack the redacted feed URL (key=REDACTED):\n%s", what, tail(text, 3000))
		}
	}
	if !strings.Contains(logs, "<address>: Recipient address rejected") {
		t.Errorf("the logs lack the masked SMTP reply")
	}
	if strings.Contains(status, "network: network:") {
		t.Errorf("status prints the error class twice:\n%s", status)
	}
	if !strings.Contains(status, `network: Get "http://`+dead+`/s?key=REDACTED"`) {
		t.Errorf("status lacks the keyed feed's redacted error:\n%s", status)
	}

	// The store keeps the recipients (it must, to send), but the errors it
	// recorded for the refused mail name nobody.
	st, err := store.Open(ctx(t), filepath.Join(dir, "sw.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	failed, err := st.Messages(ctx(t), store.StatusFailed, 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(failed) < 2 {
		t.Fatalf("%d failed mails in the outbox, want 2", len(failed))
	}
	for _, m := range failed {
		if strings.Contains(m.LastError, "@") || !strings.Contains(m.LastError, "<address>") {
			t.Errorf("outbox last_error for %s = %q, want the address masked", m.Key, m.LastError)
		}
	}
	states, err := st.FeedStates(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range states {
		if s.FeedID != "news" && !strings.Contains(s.LastError, "REDACTED") {
			t.Errorf("feed_state.last_error of %s = %q, want the URL redacted", s.FeedID, s.LastError)
		}
	}
}

// readStoreFiles returns the bytes of the SQLite store and its WAL and
// shared-memory files, whichever exist.
func readStoreFiles(t *testing.T, db string) string {
	t.Helper()
	var all []byte
	for _, p := range []string{db, db + "-wal", db + "-shm"} {
		b, err := os.ReadFile(p)
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		all = append(all, b...)
	}
	if len(all) == 0 {
		t.Fatalf("no store at %s", db)
	}
	return string(all)
}

// TestReloadDeletesRemovedFeedSeries (F13) runs the daemon with a good
// feed and a failing one, removes the failing one with a SIGHUP reload,
// and scrapes /metrics: no series of the removed feed may remain (they
// would keep SchoolwatchFeedStale firing), and the kept feed's are intact.
func TestReloadDeletesRemovedFeedSeries(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	fs := serveFeeds(t)
	fs.Add("/kept.xml", item{GUID: "k1", Title: "Sports day results", Text: "Well done everyone."})
	port := freePort(t)
	c := config{Dir: dir, Port: port, Feeds: []feedConfig{
		{ID: "kept", URL: fs.URL + "/kept.xml"},
		{ID: "gone", URL: fmt.Sprintf("http://127.0.0.1:%d/gone.xml", freePort(t))},
	}}
	path := c.write(t)
	d := start(t, path, port, nil)
	d.waitReady()
	eventually(t, 20*time.Second, "both feeds to be polled", func() bool {
		return d.metric("schoolwatch_feed_consecutive_failures", `feed="gone"`) >= 1 &&
			d.metric("schoolwatch_polls_total", `feed="kept"`, `result="ok"`) >= 1
	})
	before := feedSeriesOf(t, d, "gone")
	for _, name := range []string{"schoolwatch_polls_total", "schoolwatch_feed_last_success_timestamp_seconds",
		"schoolwatch_feed_consecutive_failures", "schoolwatch_feed_poll_interval_seconds"} {
		if !strings.Contains(before, name+"{") {
			t.Errorf("before the reload, /metrics has no %s series for the failing feed:\n%s", name, before)
		}
	}
	keptBefore := strings.Count(feedSeriesOf(t, d, "kept"), "\n")

	c.Feeds = c.Feeds[:1]
	c.write(t)
	d.signal(syscall.SIGHUP)
	eventually(t, 20*time.Second, "the reload to drop the removed feed's series", func() bool {
		return d.metric("schoolwatch_config_reloads_total", `result="success"`) == 1 && feedSeriesOf(t, d, "gone") == ""
	})
	// The reload is done and the new generation polls: nothing brings the
	// removed feed back, and the kept feed keeps every series it had.
	polls := d.metric("schoolwatch_polls_total", `feed="kept"`)
	eventually(t, 20*time.Second, "the kept feed to be polled after the reload", func() bool {
		return d.metric("schoolwatch_polls_total", `feed="kept"`) > polls
	})
	if s := feedSeriesOf(t, d, "gone"); s != "" {
		t.Errorf("series of the removed feed came back:\n%s", s)
	}
	if n := strings.Count(feedSeriesOf(t, d, "kept"), "\n"); n < keptBefore {
		t.Errorf("the kept feed has %d series after the reload, %d before", n, keptBefore)
	}
	d.stop()
}

// feedSeriesOf returns the /metrics lines labelled feed="id".
func feedSeriesOf(t *testing.T, d *daemon, id string) string {
	t.Helper()
	resp, err := client.Get(d.url("/metrics"))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	for _, l := range strings.Split(string(b), "\n") {
		if !strings.HasPrefix(l, "#") && strings.Contains(l, `feed="`+id+`"`) {
			out.WriteString(l + "\n")
		}
	}
	return out.String()
}

// TestPasswordFileFIFO (F15) points mail.smtp.password_file at a named pipe
// nobody writes to. `check` must exit 1 with an error naming the field and
// the file (it used to block in open() for ever), and a SIGHUP to a running
// daemon with that config must fail the reload and leave SIGTERM working.
func TestPasswordFileFIFO(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	fifo := filepath.Join(dir, "smtp-password")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	fs := serveFeeds(t)
	port := freePort(t)
	c := config{Dir: dir, Port: port, SMTP: "127.0.0.1:2525", Feeds: []feedConfig{{ID: "news", URL: fs.URL + "/news.xml"}}}
	good := c.yaml()
	bad := strings.Replace(good, "tls: none, timeout: 5s }", "tls: none, timeout: 5s, username: alerts, password_file: "+fifo+" }", 1)
	if bad == good {
		t.Fatal("the harness's smtp line changed; update this test")
	}
	badPath := filepath.Join(dir, "bad.yml")
	if err := os.WriteFile(badPath, []byte(bad), 0o600); err != nil {
		t.Fatal(err)
	}
	out, code := runCombined(t, "check", "-config", badPath)
	if code != 1 {
		t.Errorf("check exit %d, want 1\n%s", code, out)
	}
	for _, want := range []string{"mail.smtp.password_file", fifo, "named pipe"} {
		if !strings.Contains(out, want) {
			t.Errorf("check output lacks %q:\n%s", want, out)
		}
	}

	path := c.write(t)
	d := start(t, path, port, nil)
	d.waitReady()
	if err := os.WriteFile(path, []byte(bad), 0o600); err != nil {
		t.Fatal(err)
	}
	d.signal(syscall.SIGHUP)
	eventually(t, 20*time.Second, "the reload to fail", func() bool {
		return d.metric("schoolwatch_config_reloads_total", `result="failure"`) == 1
	})
	if !strings.Contains(d.log.String(), "named pipe") {
		t.Errorf("the logs do not say why the reload failed")
	}
	d.stop()
}
