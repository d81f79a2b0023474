package blackbox

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"html"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/http"
	"net/mail"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// htmlPartOf returns a message's text/html body, transfer encoding undone.
func htmlPartOf(ct, enc string, body io.Reader) string {
	mt, params, _ := mime.ParseMediaType(ct)
	if strings.HasPrefix(mt, "multipart/") {
		mr := multipart.NewReader(body, params["boundary"])
		for {
			p, err := mr.NextRawPart()
			if err != nil {
				return ""
			}
			if s := htmlPartOf(p.Header.Get("Content-Type"), p.Header.Get("Content-Transfer-Encoding"), p); s != "" {
				return s
			}
		}
	}
	if mt != "text/html" {
		return ""
	}
	if strings.EqualFold(enc, "quoted-printable") {
		body = quotedprintable.NewReader(body)
	}
	b, _ := io.ReadAll(body)
	return string(b)
}

// TestIncidentAcknowledgeLink is the acceptance path against the binary:
// the demo config with http.public_url, the critical mail's "Acknowledge"
// link opened (a form, nothing changed), a tampered link refused with
// 403, the form posted without cookies, and /alerts.csv listing the
// post's link as acknowledged.
func TestIncidentAcknowledgeLink(t *testing.T) {
	dir := t.TempDir()
	port := freePort(t)
	b, err := os.ReadFile("../../../schoolwatch.example.yml")
	if err != nil {
		t.Fatal(err)
	}
	feeds, _ := filepath.Abs("../../../examples/feeds")
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	s := strings.ReplaceAll(string(b), "file://examples/feeds/", "file://"+feeds+"/")
	s = strings.Replace(s, "listen: 127.0.0.1:9464", fmt.Sprintf("listen: 127.0.0.1:%d\n  public_url: %s", port, base), 1)
	cfg := filepath.Join(dir, "schoolwatch.yml")
	if err := os.WriteFile(cfg, []byte(s), 0o600); err != nil {
		t.Fatal(err)
	}
	d := start(t, cfg, port, nil)
	d.waitReady()

	linkRE := regexp.MustCompile(`<a href="([^"]+)"[^>]*>Acknowledge</a>`)
	var ack string
	eventually(t, 20*time.Second, "the critical mail with an Acknowledge link", func() bool {
		files, _ := filepath.Glob(filepath.Join(dir, "var/mail/*.eml"))
		for _, f := range files {
			raw, err := os.ReadFile(f)
			if err != nil {
				continue
			}
			m, err := mail.ReadMessage(bytes.NewReader(raw))
			if err != nil {
				continue
			}
			subj, _ := new(mime.WordDecoder).DecodeHeader(m.Header.Get("Subject"))
			if !strings.Contains(strings.ToUpper(subj), "CRITICAL") {
				continue
			}
			if l := linkRE.FindStringSubmatch(htmlPartOf(m.Header.Get("Content-Type"), m.Header.Get("Content-Transfer-Encoding"), m.Body)); l != nil {
				ack = html.UnescapeString(l[1])
				return true
			}
		}
		return false
	})
	if !strings.HasPrefix(ack, base+"/act?t=") {
		t.Fatalf("Acknowledge link %q is not under public_url", ack)
	}
	statuses := func() map[string]string {
		resp, err := client.Get(base + "/alerts.csv")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		recs, err := csv.NewReader(resp.Body).ReadAll()
		if err != nil || len(recs) < 2 {
			t.Fatalf("/alerts.csv: %v %v", err, recs)
		}
		col := map[string]int{}
		for i, h := range recs[0] {
			col[h] = i
		}
		out := map[string]string{}
		for _, r := range recs[1:] {
			if r[col["severity"]] == "critical" {
				out[r[col["post link"]]] = r[col["status"]]
			}
		}
		return out
	}
	before := statuses()
	resp, err := client.Get(ack)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !bytes.Contains(page, []byte("<form")) {
		t.Fatalf("GET the link = %d %s", resp.StatusCode, page)
	}
	for l, st := range statuses() {
		if st != "new" || before[l] != "new" {
			t.Fatalf("after a GET, %s is %q (was %q), want new", l, st, before[l])
		}
	}
	u, _ := url.Parse(ack)
	tok := u.Query().Get("t")
	bad := tok[:len(tok)-3] + "AAA"
	if bad == tok {
		bad = tok[:len(tok)-3] + "BBB"
	}
	if resp, err := client.Get(base + "/act?t=" + url.QueryEscape(bad)); err != nil || resp.StatusCode != http.StatusForbidden {
		t.Fatalf("a tampered link = %v %v, want 403", resp.StatusCode, err)
	}
	form := url.Values{}
	for _, m := range regexp.MustCompile(`<input type="hidden" name="([a-z]+)" value="([^"]*)">`).FindAllSubmatch(page, -1) {
		form.Set(string(m[1]), html.UnescapeString(string(m[2])))
	}
	action := regexp.MustCompile(`<form method="post" action="([^"]*)"`).FindSubmatch(page)
	target, _ := u.Parse(string(action[1]))
	resp, err = client.PostForm(target.String(), form)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("POST the form = %d", resp.StatusCode)
	}
	acked := 0
	for _, st := range statuses() {
		if st == "acknowledged" {
			acked++
		}
	}
	if acked != 1 {
		t.Errorf("after the POST, %d critical posts are acknowledged, want 1: %v", acked, statuses())
	}
}
