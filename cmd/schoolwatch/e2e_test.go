package main

import (
	"bytes"
	"context"
	"fmt"
	"mime"
	"net/http"
	"net/http/httptest"
	"net/mail"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/schoolwatch/schoolwatch/alerts/smtptest"
)

// demoConfig rewrites the example config to poll the demo feeds over a real
// HTTP server and to keep its store and mail in dir. smtp, if not empty, is
// a mail.smtp block.
func demoConfig(t *testing.T, dir, feedBase, smtp string) string {
	t.Helper()
	b, err := os.ReadFile("../../schoolwatch.example.yml")
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	s = strings.Replace(s, "file://examples/feeds/local-news.xml", feedBase+"/local-news.xml", 1)
	s = strings.Replace(s, "file://examples/feeds/community.atom", feedBase+"/community.atom", 1)
	s = strings.Replace(s, "listen: 127.0.0.1:9464", "listen: 127.0.0.1:0", 1)
	if smtp != "" {
		s = strings.Replace(s, "  dir: var/mail\n", "  dir: var/mail\n"+smtp, 1)
	}
	path := filepath.Join(dir, "schoolwatch.yml")
	if err := os.WriteFile(path, []byte(s), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func serveDemoFeeds(t *testing.T) *httptest.Server {
	srv := httptest.NewServer(http.FileServer(http.Dir("../../examples/feeds")))
	t.Cleanup(srv.Close)
	return srv
}

func run(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errb bytes.Buffer
	code = Main(context.Background(), args, &out, &errb)
	return out.String(), errb.String(), code
}

type sentMail struct {
	to, subject string
	body        string
}

func readEML(t *testing.T, dir string) []sentMail {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(dir, "*.eml"))
	var out []sentMail
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		m, err := mail.ReadMessage(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		subj, _ := decodeHeader(m.Header.Get("Subject"))
		to, err := mail.ParseAddress(m.Header.Get("To"))
		if err != nil {
			t.Fatalf("%s: To: %v", f, err)
		}
		out = append(out, sentMail{to: "<" + to.Address + ">", subject: subj, body: string(b)})
	}
	return out
}

func decodeHeader(s string) (string, error) { return new(mimeDecoder).DecodeHeader(s) }

// wantDemoMails is what one cycle over the demo feeds must produce: one mail
// per leader and school, each holding only what was routed to that leader.
var wantDemoMails = []string{
	"<dsl@harbourside.example.org>: [schoolwatch][HIGH] Pupil images or personal data posted — Harbourside Academy",
	"<dsl@stmarys.example.org>: [schoolwatch][CRITICAL] Possible threat — St Mary's Church of England Primary School (+1 more)",
	"<head@stmarys.example.org>: [schoolwatch][CRITICAL] Possible threat — St Mary's Church of England Primary School (+1 more)",
	"<principal@harbourside.example.org>: [schoolwatch][HIGH] Pupil images or personal data posted — Harbourside Academy (+1 more)",
}

func summarise(ms []sentMail) []string {
	var out []string
	for _, m := range ms {
		out = append(out, m.to+": "+m.subject)
	}
	slices.Sort(out)
	return out
}

func TestOnceSendWritesExpectedMailFiles(t *testing.T) {
	dir := t.TempDir()
	feeds := serveDemoFeeds(t)
	cfg := demoConfig(t, dir, feeds.URL, "")
	stdout, stderr, code := run(t, "once", "--send", "-config", cfg)
	if code != 0 {
		t.Fatalf("once --send exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	got := summarise(readEML(t, filepath.Join(dir, "var/mail")))
	if !slices.Equal(got, wantDemoMails) {
		t.Fatalf("mails:\n%s\nwant:\n%s\nstderr:\n%s", strings.Join(got, "\n"), strings.Join(wantDemoMails, "\n"), stderr)
	}
	for _, m := range readEML(t, filepath.Join(dir, "var/mail")) {
		if strings.Contains(m.to, "comms@") {
			t.Errorf("the comms lead got %q: media findings go to the digest", m.subject)
		}
	}
	// A second cycle finds nothing new and sends nothing.
	_, stderr, code = run(t, "once", "--send", "-config", cfg)
	if code != 0 {
		t.Fatalf("second once --send exit %d: %s", code, stderr)
	}
	if n := len(readEML(t, filepath.Join(dir, "var/mail"))); n != len(wantDemoMails) {
		t.Errorf("after a second cycle there are %d mails, want %d", n, len(wantDemoMails))
	}
}

func TestOnceWithoutSendRecordsNothing(t *testing.T) {
	dir := t.TempDir()
	feeds := serveDemoFeeds(t)
	cfg := demoConfig(t, dir, feeds.URL, "")
	stdout, stderr, code := run(t, "once", "-config", cfg)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, want := range []string{"CRITICAL\tthreat\tschool=990001", "HIGH\tallegation\tschool=990001", "NORMAL\tcomplaint\tschool=990002", "NORMAL\tmedia\tschool=990002"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("findings lack %q:\n%s", want, stdout)
		}
	}
	if strings.Contains(stdout, "Oxford") {
		t.Errorf("St Mary's in Oxford matched:\n%s", stdout)
	}
	if _, err := os.Stat(filepath.Join(dir, "var/mail")); err == nil {
		t.Error("once without --send wrote mail")
	}
	// It must not spoil a later real run: --send still mails everything.
	if _, stderr, code := run(t, "once", "--send", "-config", cfg); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if n := len(readEML(t, filepath.Join(dir, "var/mail"))); n != len(wantDemoMails) {
		t.Errorf("%d mails after a dry run then a real one, want %d", n, len(wantDemoMails))
	}
}

func TestOnceSendOverSMTP(t *testing.T) {
	dir := t.TempDir()
	feeds := serveDemoFeeds(t)
	srv := smtptest.Start(t)
	cfg := demoConfig(t, dir, feeds.URL, fmt.Sprintf("  smtp: { host: %s, port: %d, tls: none }\n", srv.Host(), srv.Port()))
	if _, stderr, code := run(t, "once", "--send", "-config", cfg); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	msgs := srv.Messages()
	var got []string
	for _, m := range msgs {
		pm, err := m.Parse()
		if err != nil {
			t.Fatal(err)
		}
		subj, _ := decodeHeader(pm.Header.Get("Subject"))
		got = append(got, "<"+m.To[0]+">: "+subj)
	}
	slices.Sort(got)
	if !slices.Equal(got, wantDemoMails) {
		t.Fatalf("SMTP mails:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(wantDemoMails, "\n"))
	}
	if _, err := os.Stat(filepath.Join(dir, "var/mail")); err == nil {
		t.Error("with SMTP configured, .eml files were written too")
	}
}

func TestCheck(t *testing.T) {
	if out, stderr, code := run(t, "check", "-config", "../../schoolwatch.example.yml"); code != 0 || !strings.Contains(out, "OK") {
		t.Fatalf("example config: exit %d\n%s%s", code, out, stderr)
	}
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yml")
	os.WriteFile(bad, []byte(`schools:
  - id: "1"
    name: Oak School
    leaders: [{ email: head@x.org, roles: [head] }]
rules:
  - id: r1
    query: '(knife OR gun'
    guidance: no-such-section
`), 0o600)
	_, stderr, code := run(t, "check", "-config", bad)
	if code != 1 {
		t.Fatalf("exit %d, want 1", code)
	}
	for _, want := range []string{bad + ":7: rules[0].query: col", bad + ":8: rules[0].guidance: unknown guidance section \"no-such-section\""} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	if _, stderr, code := run(t, "check", "-config", filepath.Join(dir, "missing.yml")); code != 1 || !strings.Contains(stderr, "missing.yml") {
		t.Errorf("missing config: exit %d, %s", code, stderr)
	}
}

func TestVersionAndUsage(t *testing.T) {
	if out, _, code := run(t, "version"); code != 0 || !strings.HasPrefix(out, "schoolwatch ") {
		t.Errorf("version: %d %q", code, out)
	}
	if _, _, code := run(t, "frobnicate"); code != 2 {
		t.Errorf("unknown command exit %d, want 2", code)
	}
}

type mimeDecoder = mime.WordDecoder

func TestUnreachableFeedDoesNotStopTheCycle(t *testing.T) {
	dir := t.TempDir()
	feeds := serveDemoFeeds(t)
	dead := httptest.NewServer(http.NotFoundHandler())
	deadURL := dead.URL
	dead.Close() // nothing listens there any more
	cfg := demoConfig(t, dir, feeds.URL, "")
	b, _ := os.ReadFile(cfg)
	extra := strings.Replace(string(b), "\nfeeds:\n", "\nfeeds:\n  - id: gone\n    url: "+deadURL+"/feed.xml\n  - id: broken\n    url: "+feeds.URL+"/../README.md\n", 1)
	os.WriteFile(cfg, []byte(extra), 0o600)
	_, stderr, code := run(t, "once", "--send", "-config", cfg)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.Contains(stderr, "gone: error: network") || !strings.Contains(stderr, "(2 failed)") {
		t.Errorf("the failing feeds are not reported:\n%s", stderr)
	}
	if got := summarise(readEML(t, filepath.Join(dir, "var/mail"))); !slices.Equal(got, wantDemoMails) {
		t.Errorf("with a dead feed in the cycle the others produced:\n%s", strings.Join(got, "\n"))
	}
}

func TestTestEmail(t *testing.T) {
	dir := t.TempDir()
	srv := smtptest.Start(t)
	cfg := demoConfig(t, dir, "https://feeds.invalid", fmt.Sprintf("  smtp: { host: %s, port: %d, tls: none }\n", srv.Host(), srv.Port()))
	out, stderr, code := run(t, "test-email", "--to", "it@school.example.org", "-config", cfg)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	msgs := srv.Messages()
	if len(msgs) != 1 || msgs[0].To[0] != "it@school.example.org" || !strings.Contains(out, "delivered") {
		t.Fatalf("got %d messages, output %q", len(msgs), out)
	}
	pm, _ := msgs[0].Parse()
	if pm.Header.Get("Message-ID") == "" {
		t.Error("test mail has no Message-ID")
	}
	srv.Close()
	if _, stderr, code := run(t, "test-email", "--to", "it@school.example.org", "-config", cfg); code != 1 || !strings.Contains(stderr, "delivery via") {
		t.Errorf("with the server down: exit %d, %s", code, stderr)
	}
}

// TestMentionsAreSeenNotSent: a post that names a school and raises no
// category finding (the demo's PTA film night) is printed by once as a
// mention finding, and once --send mails no mention: mentions travel only
// in the digest, to the leaders who asked for them (by default the head).
func TestMentionsAreSeenNotSent(t *testing.T) {
	dir := t.TempDir()
	feeds := serveDemoFeeds(t)
	cfg := demoConfig(t, dir, feeds.URL, "")
	stdout, stderr, code := run(t, "once", "-config", cfg)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var film string
	for _, l := range strings.Split(stdout, "\n") {
		if strings.Contains(l, "Film night") {
			film = l
		}
	}
	if !strings.HasPrefix(film, "INFO\tmention\tschool=990001\trule=mention\t") {
		t.Errorf("the film-night post: line %q, want an INFO mention finding for 990001\n%s", film, stdout)
	}
	if strings.Contains(stdout, "Oxford") {
		t.Errorf("St Mary's in Oxford is not a mention of Folkestone's:\n%s", stdout)
	}
	if _, stderr, code := run(t, "once", "--send", "-config", cfg); code != 0 {
		t.Fatalf("once --send: exit %d: %s", code, stderr)
	}
	for _, m := range readEML(t, filepath.Join(dir, "var/mail")) {
		if strings.Contains(m.body, "Film night") {
			t.Errorf("once --send mailed the mention to %s: %s", m.to, m.subject)
		}
	}
}

// TestObserversGetWhatTheyAskFor: an observer (the LA's safeguarding team)
// asking for critical findings gets the demo's critical alert, in its own
// mail, and nothing else.
func TestObserversGetWhatTheyAskFor(t *testing.T) {
	dir := t.TempDir()
	feeds := serveDemoFeeds(t)
	cfg := demoConfig(t, dir, feeds.URL, "")
	b, _ := os.ReadFile(cfg)
	obs := "observers:\n  - { address: safeguarding@la.example.gov.uk, severities: [critical] }\n"
	if err := os.WriteFile(cfg, []byte(obs+string(b)), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, stderr, code := run(t, "once", "--send", "-config", cfg); code != 0 {
		t.Fatalf("once --send: exit %d: %s", code, stderr)
	}
	var got []string
	for _, m := range readEML(t, filepath.Join(dir, "var/mail")) {
		if m.to == "<safeguarding@la.example.gov.uk>" {
			got = append(got, m.subject)
		}
	}
	if len(got) != 1 || !strings.Contains(got[0], "[CRITICAL]") {
		t.Errorf("the observer got %q, want the one critical alert", got)
	}
}
