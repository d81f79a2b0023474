package blackbox

import (
	"bytes"
	"context"
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/schoolwatch/schoolwatch/alerts/smtptest"
)

// spoofAuthor is the review's F10 author: shown raw, U+202E makes the rest
// of the line read backwards, so the mail appears to carry a forged date.
const spoofAuthor = "Mr \u202e25:11 8202 naJ 1 noM"

// badDisplay reports what an operator's terminal or a leader's mail must
// never be handed from a feed: terminal controls (ESC, BEL, CR and the
// other C0 and C1 controls, bar the newline that ends a line) and bidi
// controls.
func badDisplay(r rune) bool {
	switch {
	case r == '\n':
		return false
	case unicode.IsControl(r), r == '\u2028', r == '\u2029':
		return true
	case r >= '\u202a' && r <= '\u202e', r >= '\u2066' && r <= '\u2069', r == '\u200e', r == '\u200f', r == '\u061c':
		return true
	}
	return false
}

// runCLI runs the binary with args and returns stdout, stderr and the exit
// code.
func runCLI(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	c, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(c, binary, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if c.Err() != nil {
		t.Fatalf("schoolwatch %s did not finish within 60s:\n%s%s", strings.Join(args, " "), stdout.String(), stderr.String())
	}
	code := 0
	if err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else {
			t.Fatalf("%v: %v", args, err)
		}
	}
	return stdout.String(), stderr.String(), code
}

// TestSpoofedFeedTextIsShownSafely serves feeds whose links carry terminal
// escapes and a CR LF that forges an output line, and whose author and
// title carry bidi overrides (F10, F14). `once` must print exactly one
// clean line per finding, the mail must carry no bidi control and show the
// real date, and `status` must print no control characters.
func TestSpoofedFeedTextIsShownSafely(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	fs := serveFeeds(t)
	srv := smtptest.Start(t)
	now := time.Now().UTC()

	jf, err := json.Marshal(map[string]any{
		"version": "https://jsonfeed.org/version/1.1", "title": "Spoof news",
		"items": []map[string]any{{
			"id": "TKjson-1", "url": "https://x.example/\u001b]0;PWNED\u0007\u001b[2J",
			"title":          "Worrying post about Oakfield Primary School TKjson-1",
			"content_text":   "Someone will bring a knife to Oakfield Primary School. TKjson-1",
			"date_published": now.Format(time.RFC3339),
			"authors":        []map[string]string{{"name": spoofAuthor}},
		}},
	})
	if err != nil {
		t.Fatal(err)
	}
	fs.Handle("/spoof.json", text("application/feed+json", string(jf)))
	fs.Set("/spoof.xml", item{raw: `<item><guid isPermaLink="false">TKrss-1</guid>` +
		"<title>Threat at \u202eloohcS yramirP dleifkaO\u202c and Oakfield Primary School TKrss-1</title>" +
		`<link>https://y.example/a&#13;&#10;CRITICAL&#9;threat&#9;school=100001&#9;rule=threat&#9;feed=forged&#9;Forged line&#9;https://evil.example/</link>` +
		`<description>A knife was seen near Oakfield Primary School. TKrss-1</description>` +
		`<pubDate>` + now.Format(time.RFC1123Z) + `</pubDate></item>`})
	c := config{Dir: dir, Port: freePort(t), SMTP: srv.Addr, Feeds: []feedConfig{
		{ID: "jsonspoof", URL: fs.URL + "/spoof.json"},
		{ID: "rssspoof", URL: fs.URL + "/spoof.xml"},
	}}
	cfg := c.write(t)

	// once, dry run: one line per finding, no control characters.
	stdout, stderr, code := runCLI(t, "once", "-config", cfg)
	if code != 0 {
		t.Fatalf("once: exit %d\n%s", code, stderr)
	}
	// Tabs are once's own column separators; the field count below shows
	// that none came from the feed.
	if i := strings.IndexFunc(stdout, func(r rune) bool { return r != '\t' && badDisplay(r) }); i >= 0 {
		t.Errorf("once printed %U: %q", []rune(stdout[i:])[0], stdout)
	}
	if i := strings.IndexFunc(stderr, badDisplay); i >= 0 {
		t.Errorf("once wrote %U to stderr: %q", []rune(stderr[i:])[0], stderr)
	}
	if !strings.Contains(stderr, "2 findings") {
		t.Errorf("once did not report 2 findings:\n%s", stderr)
	}
	lines := strings.Split(strings.TrimSuffix(stdout, "\n"), "\n")
	if len(lines) != 2 {
		t.Fatalf("once printed %d lines for 2 findings:\n%s", len(lines), stdout)
	}
	feeds := map[string]string{}
	for _, l := range lines {
		f := strings.Split(l, "\t")
		if len(f) != 7 || f[0] != "CRITICAL" || f[2] != "school=100001" || f[3] != "rule=threat" {
			t.Errorf("finding line has %d fields, want 7 (CRITICAL … school=100001 rule=threat): %q", len(f), l)
			continue
		}
		feeds[f[4]] = f[6]
	}
	if link := feeds["feed=jsonspoof"]; !strings.HasPrefix(link, "https://x.example/") || !strings.Contains(link, "PWNED") {
		t.Errorf("the JSON Feed item's link column = %q, want the link shown without its escapes", link)
	}
	if link := feeds["feed=rssspoof"]; !strings.HasPrefix(link, "https://y.example/a") || !strings.Contains(link, "feed=forged") {
		t.Errorf("the RSS item's link column = %q, want the forged text kept inside the one column", link)
	}

	// once --send: the mail shows the author without the override and the
	// post's real date.
	if _, stderr, code := runCLI(t, "once", "--send", "-config", cfg); code != 0 {
		t.Fatalf("once --send: exit %d\n%s", code, stderr)
	}
	want := expect{}
	want.add("oak", "TKjson-1")
	want.add("oak", "TKrss-1")
	waitMail(t, srv, want, 20*time.Second)
	date := now.Format("Mon 2 Jan 2006")
	sawAuthor := false
	for _, m := range srv.Messages() {
		r := decode(t, m)
		for name, part := range map[string]string{"subject": r.Subject, "text": strings.ReplaceAll(r.Text, "\r\n", "\n"), "html": strings.ReplaceAll(r.HTML, "\r\n", "\n")} {
			if i := strings.IndexFunc(part, badDisplay); i >= 0 {
				t.Errorf("mail to %s: the %s carries %U near %q", r.To, name, []rune(part[i:])[0], part[max(0, i-40):min(len(part), i+40)])
			}
		}
		if strings.Contains(r.Text, "TKjson-1") {
			sawAuthor = true
			if !strings.Contains(r.Text, "(posted by Mr 25:11 8202 naJ 1 noM)") {
				t.Errorf("mail to %s does not show the author plainly:\n%s", r.To, r.Text)
			}
			if !strings.Contains(r.Text, date) || !strings.Contains(r.HTML, date) {
				t.Errorf("mail to %s lacks the post's date %q", r.To, date)
			}
		}
	}
	if !sawAuthor {
		t.Error("no mail carried the JSON Feed item")
	}

	// status: one row per feed, nothing a terminal would act on.
	stdout, stderr, code = runCLI(t, "status", "-config", cfg)
	if code != 0 {
		t.Fatalf("status: exit %d\n%s", code, stderr)
	}
	if i := strings.IndexFunc(stdout, badDisplay); i >= 0 {
		t.Errorf("status printed %U: %q", []rune(stdout[i:])[0], stdout)
	}
	if n := len(strings.Split(strings.TrimSuffix(stdout, "\n"), "\n")); n != 3 {
		t.Errorf("status printed %d lines, want a header and 2 feeds:\n%s", n, stdout)
	}

	// explain prints the post's excerpt: escapes and overrides go, the
	// look-alike and zero-width characters the post used stay visible.
	post := "Oakfield Primary School \x1b]0;PWNED\x07 \u202ekn\u200bife\u202c \u041eakfield"
	stdout, stderr, code = runCLI(t, "explain", "-config", cfg, post)
	if code != 0 {
		t.Fatalf("explain: exit %d\n%s", code, stderr)
	}
	if i := strings.IndexFunc(stdout, badDisplay); i >= 0 {
		t.Errorf("explain printed %U: %q", []rune(stdout[i:])[0], stdout)
	}
	if !strings.Contains(stdout, "Findings: 1") || !strings.Contains(stdout, "[kn\u200bife]") {
		t.Errorf("explain does not show the one finding with the post's own characters:\n%s", stdout)
	}
}
