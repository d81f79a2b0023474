package rules

import (
	"slices"
	"strings"
	"testing"
)

func TestInflections(t *testing.T) {
	tests := []struct {
		word string
		has  []string
		not  []string
	}{
		{"stab", []string{"stabs", "stabbed", "stabbing"}, nil},
		{"knife", []string{"knives"}, nil},
		{"threaten", []string{"threatens", "threatened", "threatening"}, nil},
		{"abuse", []string{"abused", "abusing", "abuses"}, nil},
		{"bully", []string{"bullied", "bullying", "bullies"}, nil},
		{"groom", []string{"groomed", "grooming"}, nil},
		{"punch", []string{"punches", "punched"}, nil},
		{"shoot", []string{"shot", "shooting"}, nil},
		{"miss", nil, []string{"missing", "missed"}},
		{"sir", nil, []string{"sirs"}},
	}
	for _, tt := range tests {
		got := inflections(tt.word)
		for _, w := range tt.has {
			if !slices.Contains(got, w) {
				t.Errorf("inflections(%q) = %v, lacks %q", tt.word, got, w)
			}
		}
		for _, w := range tt.not {
			if slices.Contains(got, w) {
				t.Errorf("inflections(%q) = %v, must not have %q", tt.word, got, w)
			}
		}
	}
}

var inflectSchools = []School{{ID: "1", Name: "Harbourside Academy", Town: "Dover"}}

func TestRuleWordsMatchTheirInflections(t *testing.T) {
	m, err := Compile(inflectSchools, []Rule{
		{ID: "threat", Query: `stab OR knife OR "threaten to kill"`, Category: "threat", Severity: "critical"},
		{ID: "staff", Query: `miss NEAR/3 hit`, Category: "allegation", Severity: "high"},
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		text string
		want []string
	}{
		{"Harbourside Academy lad says he got stabbed outside", []string{"threat"}},
		{"kids at Harbourside Academy carrying knives now", []string{"threat"}},
		{"someone threatened to kill a teacher at Harbourside Academy", []string{"threat"}},
		{"Harbourside Academy: the miss hit my son", []string{"staff"}},
		{"Harbourside Academy: missing coat, someone hit the bins", nil},
	} {
		var got []string
		for _, f := range m.Match(tt.text) {
			got = append(got, f.Rule)
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("Match(%q) = %v, want %v", tt.text, got, tt.want)
		}
	}
}

func TestTermLists(t *testing.T) {
	lists := TermLists{"staff": {"teacher", "miss", "sir", "teaching assistant", "coach*"}}
	q, err := ParseQueryLists(`@staff NEAR/4 (hit OR slap)`, lists)
	if err != nil {
		t.Fatal(err)
	}
	if got := q.String(); got != "@staff NEAR/4 (hit OR slap)" {
		t.Errorf("String() = %q: a list prints as written", got)
	}
	_, err = ParseQueryLists(`knife AND @weapon`, lists)
	var se *SyntaxError
	if err == nil || !errorAs(err, &se) || se.Col != 11 || !strings.Contains(se.Msg, "unknown term list @weapon") || !strings.Contains(se.Msg, "@staff") {
		t.Errorf("unknown list: err = %v, want a SyntaxError at col 11 naming @weapon and the known lists", err)
	}
	m, err := CompileLists(inflectSchools, []Rule{{ID: "a", Query: `@staff NEAR/4 (hit OR slap)`, Category: "allegation", Severity: "high"}}, lists)
	if err != nil {
		t.Fatal(err)
	}
	for text, want := range map[string]bool{
		"Harbourside Academy teaching assistant slapped my boy": true,
		"the football coaches at Harbourside Academy hit him":   true,
		"Harbourside Academy pupil hit a six":                   false,
	} {
		if got := len(m.Match(text)) > 0; got != want {
			t.Errorf("Match(%q) fired = %v, want %v", text, got, want)
		}
	}
}

func errorAs(err error, se **SyntaxError) bool {
	e, ok := err.(*SyntaxError)
	if ok {
		*se = e
	}
	return ok
}

// A term just after a negator is denied by the post ("no complaints at
// all"); a negator inside a phrase is part of it.
func TestNegation(t *testing.T) {
	m, err := Compile(inflectSchools, []Rule{
		{ID: "complaint", Query: `complain*`, Category: "complaint", Severity: "normal"},
		{ID: "home", Query: `"not safe at home"`, Category: "safeguarding", Severity: "high"},
	})
	if err != nil {
		t.Fatal(err)
	}
	for text, want := range map[string]string{
		"Harbourside Academy: no complaints at all, lovely school":   "",
		"Harbourside Academy, I have never complained before but":    "",
		"Harbourside Academy parents complain about the new uniform": "complaint",
		"a girl at Harbourside Academy says she is not safe at home": "home",
	} {
		got := ""
		if fs := m.Match(text); len(fs) > 0 {
			got = fs[0].Rule
		}
		if got != want {
			t.Errorf("Match(%q) = %q, want %q", text, got, want)
		}
	}
}

// A long rule word still matches with one letter wrong, missing, extra or
// swapped; a short one does not.
func TestMisspellingsOfLongWords(t *testing.T) {
	m, err := Compile(inflectSchools, []Rule{
		{ID: "harass", Query: `harassment OR inappropriate`, Category: "pupil-bullying", Severity: "high"},
		{ID: "short", Query: `knife`, Category: "threat", Severity: "critical"},
	})
	if err != nil {
		t.Fatal(err)
	}
	for text, want := range map[string]string{
		"Harbourside Academy harrassment of my son":        "harass", // extra letter
		"Harbourside Academy harasment online":             "harass", // missing letter
		"Harbourside Academy teacher was inapropriate":     "harass",
		"Harbourside Academy teacher was inappropraite":    "harass", // swapped
		"Harbourside Academy teacher was innappropriate":   "harass",
		"Harbourside Academy someone had a knfie":          "", // too short to guess
		"Harbourside Academy inappropriately long queues?": "", // two letters more
	} {
		got := ""
		if fs := m.Match(text); len(fs) > 0 {
			got = fs[0].Rule
		}
		if got != want {
			t.Errorf("Match(%q) = %q, want %q", text, got, want)
		}
	}
}
