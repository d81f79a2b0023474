package blackbox

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/xml"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/http"
	"net/http/httptest"
	"net/mail"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/schoolwatch/schoolwatch/alerts/smtptest"
)

// binary is the schoolwatch executable TestMain built.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "schoolwatch-blackbox-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "schoolwatch")
	build := exec.Command("go", "build", "-o", binary, "github.com/schoolwatch/schoolwatch/cmd/schoolwatch")
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "building schoolwatch: %v\n%s", err, out)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// The schools every scenario watches. Oakfield has a head and a DSL, so a
// critical item about it is two mails; Riverside's principal holds both
// roles, so an item about it is one.
var (
	oakHead  = "head@oakfield.example.org"
	oakDSL   = "dsl@oakfield.example.org"
	riverHd  = "principal@riverside.example.org"
	leaders  = []string{oakHead, oakDSL, riverHd}
	schoolOf = map[string][]string{"oak": {oakHead, oakDSL}, "river": {riverHd}}
)

// config is what a scenario varies in the daemon's config.
type config struct {
	Dir      string // store and mail live here unless StorePath says otherwise
	Port     int    // http.listen port
	SMTP     string // host:port, or "" to write .eml files
	Feeds    []feedConfig
	Extra    string // more top-level YAML (e.g. "polling: ...")
	Store    string // store.path; default Dir/sw.db
	Retain   string // store.retention; default 2160h
	Schedule string // default feed schedule; default "@every 1s"
}

type feedConfig struct {
	ID, URL, Timeout string
	MaxItems         int // max_items; 0 leaves the default
}

func (c config) yaml() string {
	var b strings.Builder
	store := c.Store
	if store == "" {
		store = filepath.Join(c.Dir, "sw.db")
	}
	retain := c.Retain
	if retain == "" {
		retain = "2160h"
	}
	sched := c.Schedule
	if sched == "" {
		sched = "@every 1s"
	}
	fmt.Fprintf(&b, "store: { path: %q, retention: %s }\n", store, retain)
	fmt.Fprintf(&b, "http: { listen: \"127.0.0.1:%d\" }\n", c.Port)
	b.WriteString("mail:\n  from: \"schoolwatch <alerts@example.org>\"\n")
	if c.SMTP != "" {
		h, p, _ := net.SplitHostPort(c.SMTP)
		fmt.Fprintf(&b, "  smtp: { host: %s, port: %s, tls: none, timeout: 5s }\n", h, p)
	}
	fmt.Fprintf(&b, "  dir: %q\n", filepath.Join(c.Dir, "mail"))
	b.WriteString("  group_wait: 0s\n  retry: { initial: 200ms, max: 2s }\n")
	fmt.Fprintf(&b, "defaults: { schedule: \"%s\", timeout: 5s, max_item_age: 72h }\n", sched)
	if !strings.Contains(c.Extra, "polling:") {
		b.WriteString("polling: { concurrency: 16, per_host: 16, jitter: 0s, max_backoff: 1s }\n")
	}
	b.WriteString(c.Extra)
	b.WriteString(`schools:
  - id: "100001"
    name: "Oakfield Primary School"
    town: Ashford
    leaders:
      - { name: "O Head", email: ` + oakHead + `, roles: [head] }
      - { name: "O Lead", email: ` + oakDSL + `, roles: [dsl] }
  - id: "100002"
    name: "Riverside Academy"
    town: Dover
    leaders:
      - { name: "R Principal", email: ` + riverHd + `, roles: [head, dsl] }
feeds:
`)
	for _, f := range c.Feeds {
		fmt.Fprintf(&b, "  - { id: %s, url: %q", f.ID, f.URL)
		if f.Timeout != "" {
			fmt.Fprintf(&b, ", timeout: %s", f.Timeout)
		}
		if f.MaxItems != 0 {
			fmt.Fprintf(&b, ", max_items: %d", f.MaxItems)
		}
		b.WriteString(" }\n")
	}
	b.WriteString(`rules:
  - { id: threat, query: 'knife OR threat OR threats OR hurt', category: threat, severity: critical, guidance: threats-and-harassment, notify: [head, dsl] }
  - { id: complaint, query: 'complaint OR disgrace', category: complaint, severity: normal, guidance: parental-complaints, notify: [head] }
`)
	return b.String()
}

// write writes the config to Dir/schoolwatch.yml and returns its path.
func (c config) write(t testing.TB) string {
	t.Helper()
	path := filepath.Join(c.Dir, "schoolwatch.yml")
	if err := os.WriteFile(path, []byte(c.yaml()), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// freePort returns a port nothing listens on right now.
func freePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// item is one post in a served feed.
type item struct {
	GUID, Title, Text, Link string
	Published               time.Time // zero: now
	raw                     string    // if set, the whole <item> element as is
}

// feeds serves RSS documents whose items tests add while the daemon runs,
// and any other handler a test mounts.
type feeds struct {
	*httptest.Server
	mu    sync.Mutex
	items map[string][]item
	extra map[string]http.Handler
}

func serveFeeds(t testing.TB) *feeds {
	f := &feeds{items: map[string][]item{}, extra: map[string]http.Handler{}}
	f.Server = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.Close)
	return f
}

// Add appends items to the feed at path.
func (f *feeds) Add(path string, its ...item) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.items[path] = append(f.items[path], its...)
}

// Set replaces the items of the feed at path.
func (f *feeds) Set(path string, its ...item) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.items[path] = its
}

// Handle mounts h at path.
func (f *feeds) Handle(path string, h http.Handler) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.extra[path] = h
}

func (f *feeds) serve(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	h := f.extra[r.URL.Path]
	its := append([]item(nil), f.items[r.URL.Path]...)
	f.mu.Unlock()
	if h != nil {
		h.ServeHTTP(w, r)
		return
	}
	w.Header().Set("Content-Type", "application/rss+xml")
	io.WriteString(w, rss(its))
}

func rss(its []item) string {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>Test feed</title><link>http://127.0.0.1/</link><description>t</description>`)
	for _, it := range its {
		if it.raw != "" {
			b.WriteString(it.raw)
			continue
		}
		pub := it.Published
		if pub.IsZero() {
			pub = time.Now()
		}
		b.WriteString("<item><guid isPermaLink=\"false\">" + esc(it.GUID) + "</guid><title>" + esc(it.Title) + "</title>")
		if it.Link != "" {
			b.WriteString("<link>" + esc(it.Link) + "</link>")
		}
		b.WriteString("<description>" + esc(it.Text) + "</description><pubDate>" + pub.UTC().Format(time.RFC1123Z) + "</pubDate></item>")
	}
	b.WriteString("</channel></rss>")
	return b.String()
}

func esc(s string) string {
	var b bytes.Buffer
	xml.EscapeText(&b, []byte(s))
	return b.String()
}

// threatItem is a critical item about school ("oak" or "river") carrying
// token, a marker tests find again in the mail.
func threatItem(school, token string) item {
	name := map[string]string{"oak": "Oakfield Primary School", "river": "Riverside Academy"}[school]
	return item{
		GUID:  token,
		Title: "Worrying post about " + name + " " + token,
		Text:  "Someone wrote that they will bring a knife to " + name + " tomorrow. Reference " + token + ".",
		Link:  "https://news.example.org/story/" + token,
	}
}

// logBuffer collects a process's output for assertions.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// daemon is a running `schoolwatch run`.
type daemon struct {
	t    testing.TB
	cmd  *exec.Cmd
	port int
	log  *logBuffer
	done chan struct{}
	err  error // the Wait error, once done is closed
}

// start runs `schoolwatch run -config cfg` with metrics on port; the
// process is killed when the test ends if it still runs.
func start(t testing.TB, cfg string, port int, logs *logBuffer) *daemon {
	t.Helper()
	if logs == nil {
		logs = &logBuffer{}
	}
	return launch(t, exec.Command(binary, "run", "-config", cfg), port, logs)
}

// launch starts cmd (the daemon, however it is wrapped) with its output in
// logs, and kills it when the test ends, showing its output if it failed.
func launch(t testing.TB, cmd *exec.Cmd, port int, logs *logBuffer) *daemon {
	cmd.Stdout = logs
	cmd.Stderr = logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	d := &daemon{t: t, cmd: cmd, port: port, log: logs, done: make(chan struct{})}
	go func() {
		d.err = cmd.Wait()
		close(d.done)
	}()
	t.Cleanup(func() {
		d.cmd.Process.Kill()
		<-d.done
		if t.Failed() {
			t.Logf("daemon output:\n%s", tail(logs.String(), 6000))
		}
	})
	return d
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n:]
}

// running reports whether the process has not exited.
func (d *daemon) running() bool {
	select {
	case <-d.done:
		return false
	default:
		return true
	}
}

// signal sends sig to the process.
func (d *daemon) signal(sig syscall.Signal) {
	if err := d.cmd.Process.Signal(sig); err != nil && d.running() {
		d.t.Fatalf("signal %v: %v", sig, err)
	}
}

// wait waits for the process to exit and returns its exit code (-1 when
// it was killed by a signal).
func (d *daemon) wait(timeout time.Duration) int {
	d.t.Helper()
	select {
	case <-d.done:
	case <-time.After(timeout):
		d.t.Fatalf("the daemon did not exit within %v", timeout)
	}
	return d.cmd.ProcessState.ExitCode()
}

// stop sends SIGTERM and expects a clean exit.
func (d *daemon) stop() {
	d.t.Helper()
	d.signal(syscall.SIGTERM)
	if code := d.wait(30 * time.Second); code != 0 {
		d.t.Errorf("exit code %d after SIGTERM, want 0", code)
	}
}

// kill sends SIGKILL and waits for the process to go.
func (d *daemon) kill() {
	d.cmd.Process.Signal(syscall.SIGKILL)
	<-d.done
}

func (d *daemon) url(path string) string { return fmt.Sprintf("http://127.0.0.1:%d%s", d.port, path) }

var client = &http.Client{Timeout: 5 * time.Second}

// ready reports whether /readyz answers 200.
func (d *daemon) ready() bool {
	resp, err := client.Get(d.url("/readyz"))
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// waitReady waits for /readyz to answer 200.
func (d *daemon) waitReady() {
	d.t.Helper()
	eventually(d.t, 20*time.Second, "the daemon to become ready", func() bool {
		if !d.running() {
			d.t.Fatalf("the daemon exited before becoming ready: %v", d.err)
		}
		return d.ready()
	})
}

// metric returns the sum of the samples of name whose labels include every
// k="v" in labels; -1 if /metrics cannot be read.
func (d *daemon) metric(name string, labels ...string) float64 {
	resp, err := client.Get(d.url("/metrics"))
	if err != nil {
		return -1
	}
	defer resp.Body.Close()
	return sumMetric(resp.Body, name, labels...)
}

func sumMetric(r io.Reader, name string, labels ...string) float64 {
	sum := 0.0
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, name) {
			continue
		}
		rest := line[len(name):]
		if !strings.HasPrefix(rest, "{") && !strings.HasPrefix(rest, " ") {
			continue
		}
		ok := true
		for _, l := range labels {
			if !strings.Contains(rest, l) {
				ok = false
			}
		}
		if !ok {
			continue
		}
		f := strings.Fields(rest[strings.LastIndex(rest, "}")+1:])
		if len(f) == 0 {
			continue
		}
		v, err := strconv.ParseFloat(f[0], 64)
		if err == nil {
			sum += v
		}
	}
	return sum
}

// peakRSS returns the process's peak resident set (VmHWM) in bytes.
func (d *daemon) peakRSS() int64 {
	return procStatus(d.cmd.Process.Pid, "VmHWM")
}

func procStatus(pid int, field string) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return -1
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			kb, _ := strconv.ParseInt(strings.Fields(v)[0], 10, 64)
			return kb << 10
		}
	}
	return -1
}

// eventually polls cond until it holds or timeout passes.
func eventually(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// received is one accepted mail, decoded.
type received struct {
	To        string
	MessageID string
	Subject   string
	Text      string // the text/plain part
	HTML      string // the text/html part
	Header    mail.Header
	// Attachments are the files the mail carries (evidence records,
	// letters), decoded, by file name.
	Attachments map[string]string
}

var tokenRE = regexp.MustCompile(`\bTK[0-9a-z]+-[0-9]+\b`)

// tokens are the item markers the mail's text carries.
func (r received) tokens() []string {
	seen := map[string]bool{}
	var out []string
	for _, tk := range tokenRE.FindAllString(r.Text, -1) {
		if !seen[tk] {
			seen[tk] = true
			out = append(out, tk)
		}
	}
	return out
}

func decode(t testing.TB, m smtptest.Message) received {
	t.Helper()
	pm, err := m.Parse()
	if err != nil {
		t.Fatalf("unparseable mail: %v", err)
	}
	subj, _ := new(mime.WordDecoder).DecodeHeader(pm.Header.Get("Subject"))
	r := received{MessageID: pm.Header.Get("Message-ID"), Subject: subj, Header: pm.Header}
	if len(m.To) == 1 {
		r.To = m.To[0]
	} else {
		t.Errorf("mail %s has envelope recipients %v, want one", r.MessageID, m.To)
	}
	mt, params, err := mime.ParseMediaType(pm.Header.Get("Content-Type"))
	if err != nil {
		t.Fatalf("Content-Type: %v", err)
	}
	if strings.HasPrefix(mt, "multipart/") {
		// An alert is multipart/mixed: the text and HTML bodies
		// (multipart/alternative), then its attachments.
		var walk func(body io.Reader, boundary string)
		walk = func(body io.Reader, boundary string) {
			mr := multipart.NewReader(body, boundary)
			for {
				p, err := mr.NextRawPart()
				if err != nil {
					break
				}
				ct, cp, _ := mime.ParseMediaType(p.Header.Get("Content-Type"))
				if strings.HasPrefix(ct, "multipart/") {
					walk(p, cp["boundary"])
					continue
				}
				b, _ := io.ReadAll(partReader(p))
				switch {
				case p.FileName() != "":
					if r.Attachments == nil {
						r.Attachments = map[string]string{}
					}
					r.Attachments[p.FileName()] = string(b)
				case ct == "text/plain":
					r.Text += string(b)
				case ct == "text/html":
					r.HTML += string(b)
				}
			}
		}
		walk(pm.Body, params["boundary"])
	} else {
		body, _ := io.ReadAll(pm.Body)
		r.Text = string(body)
	}
	return r
}

func partReader(p *multipart.Part) io.Reader {
	switch strings.ToLower(p.Header.Get("Content-Transfer-Encoding")) {
	case "quoted-printable":
		return quotedprintable.NewReader(p)
	case "base64":
		return base64.NewDecoder(base64.StdEncoding, p)
	}
	return p
}

// ledger counts what arrived per (recipient, item token).
type ledger struct {
	ids      map[string]map[string]bool // recipient+token -> Message-IDs
	copies   map[string]int             // Message-ID -> copies received
	resent   int                        // copies beyond the first of a Message-ID
	messages int
}

func tally(t testing.TB, msgs []smtptest.Message) *ledger {
	t.Helper()
	l := &ledger{ids: map[string]map[string]bool{}, copies: map[string]int{}}
	for _, m := range msgs {
		r := decode(t, m)
		l.messages++
		l.copies[r.MessageID]++
		if l.copies[r.MessageID] > 1 {
			l.resent++
		}
		for _, tk := range r.tokens() {
			k := r.To + " " + tk
			if l.ids[k] == nil {
				l.ids[k] = map[string]bool{}
			}
			l.ids[k][r.MessageID] = true
		}
	}
	return l
}

// expect is the (recipient, token) pairs a set of items should produce.
type expect map[string]bool

func (e expect) add(school, token string) {
	for _, to := range schoolOf[school] {
		e[to+" "+token] = true
	}
}

// missing lists expected pairs that have not arrived.
func (l *ledger) missing(e expect) []string {
	var out []string
	for k := range e {
		if len(l.ids[k]) == 0 {
			out = append(out, k)
		}
	}
	return out
}

// twice lists pairs that arrived in more than one distinct mail.
func (l *ledger) twice() []string {
	var out []string
	for k, ids := range l.ids {
		if len(ids) > 1 {
			out = append(out, fmt.Sprintf("%s (%d mails)", k, len(ids)))
		}
	}
	return out
}

// unexpected lists pairs that arrived but were not expected.
func (l *ledger) unexpected(e expect) []string {
	var out []string
	for k := range l.ids {
		if !e[k] {
			out = append(out, k)
		}
	}
	return out
}

// waitMail waits until every expected pair has arrived at srv.
func waitMail(t testing.TB, srv *smtptest.Server, e expect, timeout time.Duration) *ledger {
	t.Helper()
	var l *ledger
	deadline := time.Now().Add(timeout)
	for {
		l = tally(t, srv.Messages())
		miss := l.missing(e)
		if len(miss) == 0 {
			return l
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %v, %d of %d expected alerts have not arrived, e.g. %v", timeout, len(miss), len(e), miss[:min(5, len(miss))])
		}
		srv.WaitFor(srv.Count()+1, 200*time.Millisecond)
	}
}

// assertPrivateLogs fails if the logs contain a leader's address or any of
// the item texts.
func assertPrivateLogs(t testing.TB, logs string, texts ...string) {
	t.Helper()
	for _, s := range append(append([]string(nil), leaders...), texts...) {
		if s != "" && strings.Contains(logs, s) {
			t.Errorf("the logs contain %q", s)
		}
	}
}

// ctx is a short context for store checks.
func ctx(t testing.TB) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return c
}
