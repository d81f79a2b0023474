package daemon

import (
	"bytes"
	"context"
	"encoding/csv"
	"html"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/http"
	"net/http/httptest"
	"net/mail"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// partOf returns the body of the first part of type want (text/html,
// text/plain) of a message, transfer encoding undone.
func partOf(want, contentType, encoding string, body io.Reader) string {
	mt, params, _ := mime.ParseMediaType(contentType)
	if strings.HasPrefix(mt, "multipart/") {
		mr := multipart.NewReader(body, params["boundary"])
		for {
			p, err := mr.NextRawPart()
			if err != nil {
				return ""
			}
			if strings.HasPrefix(p.Header.Get("Content-Disposition"), "attachment") {
				continue
			}
			if s := partOf(want, p.Header.Get("Content-Type"), p.Header.Get("Content-Transfer-Encoding"), p); s != "" {
				return s
			}
		}
	}
	if mt != want {
		return ""
	}
	r := body
	if strings.EqualFold(encoding, "quoted-printable") {
		r = quotedprintable.NewReader(body)
	}
	b, _ := io.ReadAll(r)
	return string(b)
}

func readEML(t *testing.T, file string) (subject, htmlPart, textPart string) {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	m, err := mail.ReadMessage(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	subject, _ = new(mime.WordDecoder).DecodeHeader(m.Header.Get("Subject"))
	ct, enc := m.Header.Get("Content-Type"), m.Header.Get("Content-Transfer-Encoding")
	htmlPart = partOf("text/html", ct, enc, m.Body)
	m, _ = mail.ReadMessage(bytes.NewReader(b))
	textPart = partOf("text/plain", ct, enc, m.Body)
	return subject, htmlPart, textPart
}

var (
	actionLinkRE = regexp.MustCompile(`<a href="([^"]+)"[^>]*>(Acknowledge|Not relevant|Mute this thread for 7 days)</a>`)
	hiddenRE     = regexp.MustCompile(`<input type="hidden" name="([a-z]+)" value="([^"]*)">`)
)

func getBody(t *testing.T, u string) (int, string) {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func csvRows(t *testing.T, base string) []map[string]string {
	t.Helper()
	code, body := getBody(t, base+"/alerts.csv")
	if code != http.StatusOK {
		t.Fatalf("/alerts.csv = %d", code)
	}
	recs, err := csv.NewReader(strings.NewReader(body)).ReadAll()
	if err != nil || len(recs) == 0 {
		t.Fatalf("/alerts.csv: %v %q", err, body)
	}
	var out []map[string]string
	for _, r := range recs[1:] {
		m := map[string]string{}
		for i, h := range recs[0] {
			m[h] = r[i]
		}
		out = append(out, m)
	}
	return out
}

// TestIncidentAcknowledgeFromMail is the acceptance path: the demo with
// http.public_url set mails the critical alert with signed action links;
// opening "Acknowledge" shows a form and changes nothing; a tampered link,
// a tampered form and a missing CSRF token are refused; the form, posted
// without cookies, records the acknowledgement, which /alerts.csv and
// /alerts show.
func TestIncidentAcknowledgeFromMail(t *testing.T) {
	dir := t.TempDir()
	feeds := httptest.NewServer(http.FileServer(http.Dir("../examples/feeds")))
	defer feeds.Close()
	cfg := demoConfig(t, dir, feeds.URL)
	b, _ := os.ReadFile(cfg)
	const public = "https://schoolwatch.example.org/sw"
	if err := os.WriteFile(cfg, []byte(strings.Replace(string(b), "listen: 127.0.0.1:0", "listen: 127.0.0.1:0\n  public_url: "+public+"/", 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	ready := make(chan string, 1)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, Options{ConfigPath: cfg, Registerer: reg, Gatherer: reg, Ready: func(a string) { ready <- a }})
	}()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	}()
	var addr string
	select {
	case addr = <-ready:
	case err := <-done:
		t.Fatalf("Run: %v", err)
	case <-time.After(20 * time.Second):
		t.Fatal("daemon not ready")
	}
	base := "http://" + addr

	var file, htmlPart, textPart string
	waitFor(t, "the critical alert", func() bool {
		files, _ := filepath.Glob(filepath.Join(dir, "var/mail", "*.eml"))
		for _, f := range files {
			if strings.HasPrefix(filepath.Base(f), ".") {
				continue
			}
			subj, h, tx := readEML(t, f)
			if strings.Contains(strings.ToLower(subj), "critical") || strings.Contains(subj, "CRITICAL") {
				file, htmlPart, textPart = f, h, tx
				return true
			}
		}
		return false
	})
	links := map[string]string{}
	for _, m := range actionLinkRE.FindAllStringSubmatch(htmlPart, -1) {
		if _, ok := links[m[2]]; !ok {
			links[m[2]] = html.UnescapeString(m[1])
		}
	}
	if len(links) != 3 {
		t.Fatalf("%s: action links in the HTML part = %v, want Acknowledge, Not relevant and Mute this thread for 7 days", file, links)
	}
	for text, l := range links {
		if !strings.HasPrefix(l, public+"/act?t=") {
			t.Errorf("%s link %q is not under public_url", text, l)
		}
		if !strings.Contains(textPart, l) {
			t.Errorf("the text part lacks the %s link %q", text, l)
		}
	}
	// The proxy maps public_url onto the daemon.
	ack := base + strings.TrimPrefix(links["Acknowledge"], public)
	rows := csvRows(t, base)
	var postLink string
	for _, r := range rows {
		if r["severity"] == "critical" {
			postLink = r["post link"]
		}
		if r["status"] != "new" {
			t.Errorf("before any action, %q has status %q", r["post link"], r["status"])
		}
	}
	if postLink == "" {
		t.Fatalf("/alerts.csv lists no critical alert: %v", rows)
	}

	// Opening the link (twice, as a scanner might) changes nothing.
	for range 2 {
		code, page := getBody(t, ack)
		if code != http.StatusOK || !strings.Contains(page, `<form method="post"`) || !strings.Contains(page, "Acknowledge") {
			t.Fatalf("GET the Acknowledge link = %d %q, want 200 with a form", code, page)
		}
	}
	for _, r := range csvRows(t, base) {
		if r["status"] != "new" {
			t.Fatalf("a GET changed %q to %q", r["post link"], r["status"])
		}
	}

	// A tampered token is refused, on GET and on POST.
	u, _ := url.Parse(ack)
	tok := u.Query().Get("t")
	tampered := []byte(tok)
	tampered[2] ^= 1
	if code, _ := getBody(t, base+"/act?t="+url.QueryEscape(string(tampered))); code != http.StatusForbidden {
		t.Errorf("GET with a tampered token = %d, want 403", code)
	}
	_, page := getBody(t, ack)
	form := url.Values{}
	for _, m := range hiddenRE.FindAllStringSubmatch(page, -1) {
		form.Set(m[1], html.UnescapeString(m[2]))
	}
	if form.Get("t") != tok || form.Get("csrf") == "" {
		t.Fatalf("the form's fields = %v", form)
	}
	post := func(f url.Values) int {
		t.Helper()
		resp, err := http.PostForm(base+"/act", f)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	bad := url.Values{"t": {string(tampered)}, "csrf": {form.Get("csrf")}}
	if code := post(bad); code != http.StatusForbidden {
		t.Errorf("POST with a tampered token = %d, want 403", code)
	}
	if code := post(url.Values{"t": {tok}}); code != http.StatusForbidden {
		t.Errorf("POST without the CSRF token = %d, want 403", code)
	}
	// The Not-relevant link's CSRF token does not carry over to this one.
	nr, _ := url.Parse(links["Not relevant"])
	if code := post(url.Values{"t": {tok}, "csrf": {form.Get("csrf") + "x"}, "note": {"x"}}); code != http.StatusForbidden {
		t.Errorf("POST with a wrong CSRF token = %d, want 403", code)
	}
	_ = nr
	for _, r := range csvRows(t, base) {
		if r["status"] != "new" {
			t.Fatalf("a refused POST changed %q to %q", r["post link"], r["status"])
		}
	}

	form.Set("note", "Called the police at 07:50 <b>")
	resp, err := http.PostForm(base+"/act", form)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "Recorded") {
		t.Fatalf("POST the form = %d %q", resp.StatusCode, body)
	}
	found := false
	for _, r := range csvRows(t, base) {
		if r["post link"] == postLink && r["status"] == "acknowledged" {
			found = true
			if r["acknowledged_by"] == "" || r["acknowledged_at"] == "" || r["note"] != "Called the police at 07:50 <b>" {
				t.Errorf("acknowledged row = %v", r)
			}
		}
	}
	if !found {
		t.Fatalf("/alerts.csv does not list %s as acknowledged", postLink)
	}
	actions := func(action, result string) float64 {
		mfs, _ := reg.Gather()
		for _, mf := range mfs {
			if mf.GetName() != "schoolwatch_alert_actions_total" {
				continue
			}
			for _, m := range mf.GetMetric() {
				got := map[string]string{}
				for _, l := range m.GetLabel() {
					got[l.GetName()] = l.GetValue()
				}
				if got["action"] == action && got["result"] == result {
					return m.GetCounter().GetValue()
				}
			}
		}
		return -1
	}
	if n := actions("ack", "recorded"); n != 1 {
		t.Errorf("schoolwatch_alert_actions_total{action=ack,result=recorded} = %v, want 1", n)
	}
	if n := actions("ack", "shown"); n < 3 {
		t.Errorf("schoolwatch_alert_actions_total{action=ack,result=shown} = %v, want 3 or more", n)
	}
	if n := actions("unknown", "refused"); n < 2 {
		t.Errorf("schoolwatch_alert_actions_total{action=unknown,result=refused} = %v, want 2 or more", n)
	}

	// The report form: a CSRF token from the page, refused without it or
	// from another site's page, accepted with it.
	code, page := getBody(t, base+"/report")
	if code != http.StatusOK || !strings.Contains(page, `<option value="990001">`) {
		t.Fatalf("GET /report = %d %q", code, page)
	}
	rf := url.Values{"school": {"990001"}, "text": {"Someone says they will bring a knife to St Mary's Folkestone tomorrow"}, "url": {"https://closed.example/p/1"}}
	if code := post(rf); code != http.StatusForbidden {
		t.Errorf("POST /act with a report form = %d, want 403", code)
	}
	postReport := func(f url.Values, origin string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, base+"/report", strings.NewReader(f.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if origin != "" {
			req.Header.Set("Origin", origin)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, _ := postReport(rf, ""); code != http.StatusForbidden {
		t.Errorf("POST /report without a CSRF token = %d, want 403", code)
	}
	rf.Set("csrf", hiddenRE.FindStringSubmatch(page)[2])
	if code, _ := postReport(rf, "https://evil.example"); code != http.StatusForbidden {
		t.Errorf("POST /report from another site = %d, want 403", code)
	}
	if code, body := postReport(rf, ""); code != http.StatusOK || !strings.Contains(body, "Reported: ") {
		t.Errorf("POST /report = %d %q", code, body)
	}

	var logPage string
	code, logPage = getBody(t, base+"/alerts")
	if code != http.StatusOK || !strings.Contains(logPage, "acknowledged") || strings.Contains(logPage, "<b>") || !strings.Contains(logPage, "&lt;b&gt;") {
		t.Errorf("/alerts = %d, want the acknowledgement with the note escaped:\n%s", code, logPage)
	}
}
