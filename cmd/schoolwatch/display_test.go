package main

import (
	"bytes"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/schoolwatch/schoolwatch/store"
	"github.com/schoolwatch/schoolwatch/watchers"
)

// terminalUnsafe reports control characters other than the newline, and
// bidi controls.
func terminalUnsafe(r rune) bool {
	return r != '\n' && unicode.IsControl(r) || r >= '\u202a' && r <= '\u202e' || r >= '\u2066' && r <= '\u2069' || r == '\u200e' || r == '\u200f' || r == '\u061c'
}

// F14: a feed error can quote a server; status keeps it on its row and
// hands the terminal no escape sequence.
func TestWriteStatusPrintsNoControlCharacters(t *testing.T) {
	now := time.Date(2026, 11, 25, 8, 0, 0, 0, time.UTC)
	feeds := []watchers.Feed{{ID: "down"}, {ID: "next"}}
	states := map[string]store.FeedState{
		"down": {FeedID: "down", LastPoll: now, ErrorClass: "parse", Failures: 2,
			LastError: "bad \x1b]0;PWNED\x07\x1b[2J\r\nnext  ok  never \u202eTMG 54:10\u2069 \u0085\u009b31m end of a long error that goes on and on"},
	}
	var buf bytes.Buffer
	writeStatus(&buf, healthOf(feeds, states, now), time.UTC)
	out := buf.String()
	if i := strings.IndexFunc(out, terminalUnsafe); i >= 0 {
		t.Errorf("status printed %U:\n%q", []rune(out[i:])[0], out)
	}
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[1], "down ") || !strings.HasPrefix(lines[2], "next ") {
		t.Fatalf("want a header and one row per feed:\n%s", out)
	}
	if !strings.Contains(lines[1], "parse: bad ]0;PWNED [2J next ok never TMG 54:10 31m end of a long…") {
		t.Errorf("the error is not shown cleaned and cut to 60 characters:\n%s", lines[1])
	}
}

// explain's report quotes the post in its findings: the printed lines keep
// their indentation and lose only what a terminal would act on.
func TestWriteDisplayLines(t *testing.T) {
	report := "Rules:\n  r [threat]: FIRES\n      ✓ knife: \"kn\u200bife\"@3\n\nFindings: 1\n  school 1, rule r: a \x1b[2J\u202e[kn\u200bife]\r \u041eak\n"
	var b bytes.Buffer
	if err := writeDisplayLines(&b, report); err != nil {
		t.Fatal(err)
	}
	want := "Rules:\n  r [threat]: FIRES\n      ✓ knife: \"kn\u200bife\"@3\n\nFindings: 1\n  school 1, rule r: a [2J[kn\u200bife] \u041eak\n"
	if b.String() != want {
		t.Errorf("got\n%q\nwant\n%q", b.String(), want)
	}
}
