package mail

import (
	"errors"
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
