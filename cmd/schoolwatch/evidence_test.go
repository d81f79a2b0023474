package main

import (
	"bytes"
	"encoding/base64"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/http"
	"net/http/httptest"
	"net/mail"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// emlParts returns a mail file's header, text body and attachments.
func emlParts(t *testing.T, path string) (mail.Header, string, map[string]string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	m, err := mail.ReadMessage(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	var text string
	att := map[string]string{}
	var walk func(ct string, r io.Reader)
	walk = func(ct string, r io.Reader) {
		mt, params, err := mime.ParseMediaType(ct)
		if err != nil || !strings.HasPrefix(mt, "multipart/") {
			return
		}
		mr := multipart.NewReader(r, params["boundary"])
		for {
			p, err := mr.NextRawPart()
			if err != nil {
				return
			}
			var body io.Reader = p
			switch strings.ToLower(p.Header.Get("Content-Transfer-Encoding")) {
			case "quoted-printable":
				body = quotedprintable.NewReader(p)
			case "base64":
				body = base64.NewDecoder(base64.StdEncoding, p)
			}
			pct := p.Header.Get("Content-Type")
			if strings.HasPrefix(pct, "multipart/") {
				walk(pct, p)
				continue
			}
			data, _ := io.ReadAll(body)
			switch {
			case p.FileName() != "":
				att[p.FileName()] = string(data)
			case strings.HasPrefix(pct, "text/plain"):
				text = string(data)
			}
		}
	}
	walk(m.Header.Get("Content-Type"), m.Body)
	return m.Header, text, att
}

// TestEvidenceCommand: the demo's critical alert carries an evidence record
// per post, with the feed response's Date and ETag, and `schoolwatch
// evidence KEY` prints the same record from the store; an unknown key
// fails. The mail's first action is within its first 20 lines, and the
// mail is marked high priority.
func TestEvidenceCommand(t *testing.T) {
	dir := t.TempDir()
	files := http.FileServer(http.Dir("../../examples/feeds"))
	feeds := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("ETag", `"demo-v1"`)
		files.ServeHTTP(w, r)
	}))
	t.Cleanup(feeds.Close)
	cfg := demoConfig(t, dir, feeds.URL, "")
	if _, stderr, code := run(t, "once", "--send", "-config", cfg); code != 0 {
		t.Fatalf("once --send: exit %d: %s", code, stderr)
	}
	emls, _ := filepath.Glob(filepath.Join(dir, "var/mail", "*.eml"))
	var checked int
	for _, f := range emls {
		h, text, att := emlParts(t, f)
		if !strings.Contains(h.Get("To"), "head@stmarys") {
			continue
		}
		checked++
		if h.Get("Importance") != "high" || h.Get("X-Priority") != "1" {
			t.Errorf("the critical alert is not marked high priority: %q %q", h.Get("Importance"), h.Get("X-Priority"))
		}
		lines := strings.Split(text, "\n")
		first := -1
		for i, l := range lines {
			if strings.Contains(l, "Call 999") {
				first = i + 1
				break
			}
		}
		if first < 1 || first > 20 {
			t.Errorf("first action on line %d of the text part, want within 20", first)
		}
		records := 0
		for name, rec := range att {
			if !strings.HasPrefix(name, "evidence-") {
				continue
			}
			records++
			var key string
			for _, l := range strings.Split(rec, "\n") {
				if v, ok := strings.CutPrefix(l, "Item key:"); ok {
					key = strings.TrimSpace(v)
				}
			}
			if !strings.Contains(text, key) {
				t.Errorf("the mail does not show the item key %q", key)
			}
			if !strings.Contains(rec, `Response ETag:  "demo-v1"`) || !strings.Contains(rec, "Response Date:  ") || strings.Contains(rec, "Response Date:  not recorded") {
				t.Errorf("record lacks the response's Date and ETag:\n%s", rec)
			}
			out, stderr, code := run(t, "evidence", "-config", cfg, key)
			if code != 0 {
				t.Fatalf("evidence %s: exit %d: %s", key, code, stderr)
			}
			if out != rec {
				t.Errorf("evidence %s printed\n%s\nthe mail attached\n%s", key, out, rec)
			}
		}
		if records != 2 {
			t.Errorf("%d evidence records attached, want one per post (2)", records)
		}
	}
	if checked != 1 {
		t.Fatalf("found %d mails to the head of St Mary's, want 1", checked)
	}
	_, stderr, code := run(t, "evidence", "-config", cfg, "g:nope:0")
	if code != 1 || !strings.Contains(stderr, "no evidence record") {
		t.Errorf("unknown key: exit %d, %s", code, stderr)
	}
	if _, _, code := run(t, "evidence", "-config", cfg); code != 2 {
		t.Errorf("no key: exit %d, want 2", code)
	}
}

// TestCheckWarnsWithoutLocalContacts: with no local LADO configured, check
// says so to the operator (the mails only say "your local authority's
// LADO"); the example config, which configures one, has no such warning.
func TestCheckWarnsWithoutLocalContacts(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "sw.yml")
	if err := os.WriteFile(cfg, []byte("schools:\n  - id: \"1\"\n    name: Oak School\n    leaders: [{ email: head@x.org, roles: [head] }]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, stderr, code := run(t, "check", "-config", cfg)
	if code != 0 || !strings.Contains(stderr, "warning: guidance.contacts: no local LADO") {
		t.Errorf("exit %d, stderr:\n%s", code, stderr)
	}
	if _, stderr, _ := run(t, "check", "-config", "../../schoolwatch.example.yml"); strings.Contains(stderr, "no local LADO") {
		t.Errorf("the example config configures a LADO, yet:\n%s", stderr)
	}
}
