package rules

import (
	"bytes"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzParseQuery checks that the parser never panics, that its canonical
// form parses back to the same tree, and that any query it accepts
// compiles.
func FuzzParseQuery(f *testing.F) {
	for _, s := range []string{
		`(kill OR stab* OR shoot* OR bomb OR "going to hurt") NOT (game OR film)`,
		`(teacher OR staff) NEAR/6 (abuse* OR "touched")`,
		`a b OR c NOT d`, `((a))`, `"unterminated`, `a NEAR/ b`, `NOT NOT a`, `*`, `a**`, `“curly”`, `a NEAR/0 b NEAR/1000 c`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		q, err := ParseQuery(src)
		if err != nil {
			if _, ok := err.(*SyntaxError); !ok {
				t.Fatalf("error %T is not a *SyntaxError", err)
			}
			if _, err2 := ParseQuery(src); err2 == nil || err2.Error() != err.Error() {
				t.Fatalf("not deterministic: %v then %v", err, err2)
			}
			return
		}
		canon := q.String()
		q2, err := ParseQuery(canon)
		if err != nil {
			t.Fatalf("canonical form %q of %q does not parse: %v", canon, src, err)
		}
		if q2.String() != canon {
			t.Fatalf("canonical form changes on reparse: %q → %q", canon, q2.String())
		}
		if _, err := Compile(kent, []Rule{{ID: "r", Query: src}}); err != nil {
			t.Fatalf("query %q parses but does not compile: %v", src, err)
		}
	})
}

// FuzzMatch checks that matching never panics, is deterministic, returns
// spans that lie inside the text on rune boundaries, and that Excerpt and
// Explain cope with whatever Match returns.
func FuzzMatch(f *testing.F) {
	for _, s := range []string{
		"Shambles at St Mary's Folkestone: a boy was stabbed.",
		"#StMarysFolkestone kill", "Harbourside Academy’s head hit", "St Mary’s in Hythe — ½ ﬁre Ｓｔ",
		"@HarboursideAcad\n\nstab", "stmarys-folkestone.kent.sch.uk going to hurt", "\xff\xfe#", "#", "''s", "a's's",
		"St Mary\u00ad's Folk\u200bestone st\u2060ab", "\u0405t Mary's F\u043elkestone kill", "#St\u200dMarys\u202eFolkestone", "\u200b#\ufe0f", "a\u034f's\u00ad",
	} {
		f.Add(s)
	}
	m := mustCompile(f, kent, append(testRules,
		Rule{ID: "near", Query: `(teacher* OR head) NEAR/3 (hit OR "self harm")`, Category: "allegation"}))
	f.Fuzz(func(t *testing.T, text string) {
		got := m.Match(text)
		if again := m.Match(text); !reflect.DeepEqual(got, again) {
			t.Fatalf("not deterministic: %+v then %+v", got, again)
		}
		mentioned := m.MentionedSchools(text)
		for _, fd := range got {
			if !strings.Contains(strings.Join(mentioned, "\x00")+"\x00", fd.School+"\x00") {
				t.Fatalf("finding for %s, but MentionedSchools = %q", fd.School, mentioned)
			}
			for _, s := range fd.Evidence {
				if s.Start < 0 || s.End > len(text) || s.Start >= s.End {
					t.Fatalf("span %+v outside text of %d bytes", s, len(text))
				}
				if utf8.ValidString(text) && (!utf8.RuneStart(text[s.Start]) || s.End < len(text) && !utf8.RuneStart(text[s.End])) {
					t.Fatalf("span %+v splits a rune", s)
				}
			}
			for _, fr := range Excerpt(text, fd.Evidence, 80) {
				if fr.Text == "" {
					t.Fatalf("empty fragment")
				}
			}
		}
		var b bytes.Buffer
		if err := m.Explain(&b, text); err != nil {
			t.Fatal(err)
		}
		n := Normalize(text)
		if Normalize(n) != n {
			t.Fatalf("Normalize is not idempotent: %q → %q → %q", text, n, Normalize(n))
		}
	})
}
