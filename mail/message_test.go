package mail

import (
	"bytes"
	"encoding/base64"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	netmail "net/mail"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestKinds: the one list of mail kinds holds each kind once, and each is
// a bounded metric label value.
func TestKinds(t *testing.T) {
	for _, k := range []Kind{KindAlert, KindDigest, KindNotice, KindHeartbeat, KindTest} {
		if !slices.Contains(Kinds, k) {
			t.Errorf("kind %q is not in Kinds", k)
		}
	}
	seen := map[Kind]bool{}
	for _, k := range Kinds {
		if seen[k] || k == "" || strings.ToLower(string(k)) != string(k) {
			t.Errorf("Kinds holds %q twice, empty or not lower case", k)
		}
		seen[k] = true
	}
}

// TestBuildMessageRefusesControlCharacters: a subject that would start
// another header is refused, not sent; callers clean feed text first.
func TestBuildMessageRefusesControlCharacters(t *testing.T) {
	e := Envelope{From: "schoolwatch <alerts@example.org>", To: "dsl@x.org", MessageID: MessageID("k", "test.invalid"), Date: time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)}
	for _, subject := range []string{"hi\r\nBcc: victim@evil.example", "a\x00b", "tab\there", "\x1b[2J"} {
		e.Subject = subject
		if raw, err := BuildMessage(e, "text", ""); !errors.Is(err, errSubjectControl) {
			t.Errorf("subject %q: err = %v, raw:\n%s", subject, err, raw)
		}
	}
	e.Subject = "[schoolwatch] Zoë’s school — all quiet"
	raw, err := BuildMessage(e, "text", "<p>html</p>")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(raw), "Subject: =?UTF-8?q?") {
		t.Errorf("non-ASCII subject not encoded:\n%s", raw)
	}
}

// TestBuildMessagePriorityThreadingAttachments: an urgent mail says so in
// the headers mail clients read, a follow-up names the mail it follows, and
// an attachment arrives byte for byte beside the text and HTML bodies.
func TestBuildMessagePriorityThreadingAttachments(t *testing.T) {
	data := []byte("Café £5 \u202e\r\n----- end -----\n\x00tail")
	e := Envelope{
		From: "schoolwatch <alerts@example.org>", To: "head@x.org", Subject: "s", MessageID: MessageID("k2", "test.invalid"),
		Date: time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC), Urgent: true,
		InReplyTo: MessageID("k1", "test.invalid"), References: []string{MessageID("k1", "test.invalid"), MessageID("k0", "test.invalid")},
		Attachments: []Attachment{{Name: "evidence-1.txt", Data: data}},
	}
	raw, err := BuildMessage(e, "the text", "<p>the html</p>")
	if err != nil {
		t.Fatal(err)
	}
	m, err := netmail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]string{
		"Importance": "high", "X-Priority": "1",
		"In-Reply-To": "<k1@test.invalid>", "References": "<k1@test.invalid> <k0@test.invalid>",
	} {
		if got := m.Header.Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	mt, params, _ := mime.ParseMediaType(m.Header.Get("Content-Type"))
	if mt != "multipart/mixed" {
		t.Fatalf("Content-Type = %s, want multipart/mixed", mt)
	}
	mr := multipart.NewReader(m.Body, params["boundary"])
	var kinds []string
	var got []byte
	for {
		p, err := mr.NextPart()
		if err != nil {
			break
		}
		ct, cp, _ := mime.ParseMediaType(p.Header.Get("Content-Type"))
		kinds = append(kinds, ct)
		if ct == "text/plain" {
			if p.FileName() != "evidence-1.txt" || cp["charset"] != "utf-8" {
				t.Errorf("attachment file name %q, charset %q", p.FileName(), cp["charset"])
			}
			b, _ := io.ReadAll(p)
			dec, err := base64.StdEncoding.DecodeString(strings.NewReplacer("\r", "", "\n", "").Replace(string(b)))
			if err != nil {
				t.Fatalf("attachment is not base64: %v", err)
			}
			got = dec
		}
	}
	if !slices.Equal(kinds, []string{"multipart/alternative", "text/plain"}) {
		t.Errorf("parts = %v, want the alternative bodies then the attachment", kinds)
	}
	if !bytes.Equal(got, data) {
		t.Errorf("attachment = %q, want %q", got, data)
	}

	// An ordinary mail has none of the priority or threading headers, and
	// keeps its plain multipart/alternative shape.
	plain := Envelope{From: e.From, To: e.To, Subject: "s", MessageID: e.MessageID, Date: e.Date}
	raw, err = BuildMessage(plain, "t", "<p>h</p>")
	if err != nil {
		t.Fatal(err)
	}
	m, _ = netmail.ReadMessage(bytes.NewReader(raw))
	for _, k := range []string{"Importance", "X-Priority", "In-Reply-To", "References"} {
		if v := m.Header.Get(k); v != "" {
			t.Errorf("plain mail has %s: %q", k, v)
		}
	}
	if mt, _, _ := mime.ParseMediaType(m.Header.Get("Content-Type")); mt != "multipart/alternative" {
		t.Errorf("plain mail is %s", mt)
	}

	// Header values that could break the header block are refused.
	for _, bad := range []Envelope{
		{InReplyTo: "<a@b>\r\nBcc: x@evil.example"},
		{References: []string{"<a@b> <c@d>"}},
		{Attachments: []Attachment{{Name: "a\"; x=.txt"}}},
		{Attachments: []Attachment{{Name: "../x.txt"}}},
	} {
		bad.From, bad.To, bad.Subject, bad.MessageID, bad.Date = e.From, e.To, "s", e.MessageID, e.Date
		if _, err := BuildMessage(bad, "t", ""); err == nil {
			t.Errorf("BuildMessage accepted %+v", bad)
		}
	}
}
