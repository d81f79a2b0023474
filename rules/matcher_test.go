package rules

import (
	"bytes"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
)

var testRules = []Rule{
	{ID: "threat", Query: `(kill OR stab* OR "going to hurt") NOT (game OR film)`, Category: "threat", Severity: "critical", Guidance: "threats-and-harassment"},
	{ID: "complaint", Query: `complain* OR shambles`, Category: "complaint", Severity: "normal", Guidance: "parental-complaints"},
}

func TestMatchFindings(t *testing.T) {
	m := mustCompile(t, kent, testRules)
	text := "Shambles at St Mary's Folkestone: a boy was stabbed.\n\nHarbourside Academy also complained."
	got := m.Match(text)
	want := []Finding{
		{School: "stmarys", Rule: "threat", Category: "threat", Severity: "critical", Guidance: "threats-and-harassment", Evidence: []Span{
			{12, 32, SchoolSpan, "st marys folkestone"}, {44, 51, RuleSpan, "stab*"}}},
		{School: "stmarys", Rule: "complaint", Category: "complaint", Severity: "normal", Guidance: "parental-complaints", Evidence: []Span{
			{0, 8, RuleSpan, "shambles"}, {12, 32, SchoolSpan, "st marys folkestone"}, {79, 89, RuleSpan, "complain*"}}},
		// The stabbing is in St Mary's sentence, not Harbourside's: the
		// post tells them apart (issue 15).
		{School: "harbourside", Rule: "complaint", Category: "complaint", Severity: "normal", Guidance: "parental-complaints", Evidence: []Span{
			{0, 8, RuleSpan, "shambles"}, {54, 73, SchoolSpan, "harbourside academy"}, {79, 89, RuleSpan, "complain*"}}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Match:\n got %+v\nwant %+v", got, want)
	}
	for _, f := range got {
		for _, s := range f.Evidence {
			if s.Kind == SchoolSpan && !strings.Contains(Normalize(text[s.Start:s.End]), s.Term) {
				t.Errorf("school span %q does not show %q", text[s.Start:s.End], s.Term)
			}
		}
	}
}

func TestMatchNothing(t *testing.T) {
	m := mustCompile(t, kent, testRules)
	tests := []struct{ name, text string }{
		{"rule words but no school", "someone was stabbed in town"},
		{"school but no rule words", "Harbourside Academy fete on Saturday"},
		{"NOT excludes", "Harbourside Academy film night: Kill Bill"},
		{"ambiguous alias without context", "St Mary's church: man stabbed"},
		{"empty", ""},
	}
	for _, tt := range tests {
		if got := m.Match(tt.text); got != nil {
			t.Errorf("%s: Match(%q) = %+v, want nil", tt.name, tt.text, got)
		}
	}
}

// The common case, an item that mentions no school, must not allocate.
func TestMatchDoesNotAllocate(t *testing.T) {
	if raceEnabled {
		t.Skip("sync.Pool drops items under -race")
	}
	m := mustCompile(t, kent, testRules)
	for _, text := range []string{
		"A quiet day in Dover; St Mary's church fete was lovely, nobody complained.",
		"Parents’ evening at the school — questions welcome, #NoComplaints",
	} {
		m.Match(text) // warm the pool
		if n := testing.AllocsPerRun(100, func() { m.Match(text) }); n != 0 {
			t.Errorf("Match(%q) allocates %.1f times per call", text, n)
		}
	}
}

func TestMatchConcurrent(t *testing.T) {
	m := mustCompile(t, kent, testRules)
	texts := []string{
		"Shambles at St Mary's Folkestone: a boy was stabbed.",
		"Harbourside Academy kill threat",
		"nothing here",
		"Oak Academy in Margate complained",
	}
	want := make([][]Finding, len(texts))
	for i, s := range texts {
		want[i] = m.Match(s)
	}
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 200; i++ {
				k := (i + g) % len(texts)
				if got := m.Match(texts[k]); !reflect.DeepEqual(got, want[k]) {
					t.Errorf("concurrent Match(%q) = %+v, want %+v", texts[k], got, want[k])
					return
				}
			}
		}()
	}
	wg.Wait()
}

func TestExplain(t *testing.T) {
	m := mustCompile(t, kent, testRules)
	tests := []struct {
		name, text string
		want       []string
	}{
		{"match", "Harbourside Academy's pupil was stabbed", []string{
			`harbourside Academy (Dover)`, `name "harbourside academy"`, "threat [threat, critical, guidance threats-and-harassment]: FIRES",
			`✓ stab*: "stabbed"@32`, "complaint [complaint, normal, guidance parental-complaints]: no match"}},
		{"near miss", "St Mary's pupil was stabbed", []string{
			"Schools mentioned: none", "Near misses", `"St Mary's" at bytes 0-9 is alias "st marys", a church dedication many schools share; needs one of [folkestone, hythe, cheriton] nearby`,
			"would fire, but no school is mentioned"}},
		{"context", "St Mary's in Hythe", []string{`counted because context "hythe" is within 12 words`}},
	}
	for _, tt := range tests {
		var b bytes.Buffer
		if err := m.Explain(&b, tt.text); err != nil {
			t.Fatal(err)
		}
		for _, w := range tt.want {
			if !strings.Contains(strings.ToLower(b.String()), strings.ToLower(w)) {
				t.Errorf("%s: Explain output lacks %q:\n%s", tt.name, w, b.String())
			}
		}
	}
}

func TestExcerpt(t *testing.T) {
	text := "Parents at the gates this morning said that a boy at St Mary's Folkestone was stabbed on the way home from the bus stop last night, and the police were called."
	school := Span{53, 73, SchoolSpan, "st marys folkestone"}
	rule := Span{78, 85, RuleSpan, "stab*"}
	tests := []struct {
		name  string
		spans []Span
		width int
		want  string // fragments joined, hits in [brackets]
	}{
		{"both spans fit", []Span{school, rule}, 60, "…a boy at [St Mary's Folkestone] was [stabbed] on the way…"},
		{"wide enough for all", []Span{school, rule}, 400, "Parents at the gates this morning said that a boy at [St Mary's Folkestone] was [stabbed] on the way home from the bus stop last night, and the police were called."},
		{"narrow keeps the rule span first", []Span{school, rule}, 20, "…was [stabbed] on…"},
		{"no spans", nil, 30, "Parents at the gates this…"},
		{"spans out of range are ignored", []Span{{500, 600, RuleSpan, "x"}}, 20, "Parents at the gates…"},
		{"whitespace collapses", []Span{{0, 7, RuleSpan, "a"}}, 100, "[Parents] at the gates this morning said that a boy at St Mary's Folkestone was stabbed on the way…"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b strings.Builder
			for _, f := range Excerpt(text, tt.spans, tt.width) {
				if f.Hit {
					fmt.Fprintf(&b, "[%s]", f.Text)
				} else {
					b.WriteString(f.Text)
				}
			}
			if b.String() != tt.want {
				t.Errorf("Excerpt =\n %q\nwant\n %q", b.String(), tt.want)
			}
		})
	}
	multi := "Title\n\n\tBody   text with   spaces"
	got := Excerpt(multi, []Span{{0, 5, SchoolSpan, "title"}}, 100)
	if len(got) != 2 || got[1].Text != " Body text with spaces" {
		t.Errorf("Excerpt collapses whitespace: %+v", got)
	}
}

// MatchMentions reports a mention finding per school named when no rule
// fires, nothing for a text that names no school, and only the rule
// findings when one fires.
func TestMatchMentions(t *testing.T) {
	m := mustCompile(t, []School{
		{ID: "h", Name: "Harbourside Academy", Town: "Dover"},
		{ID: "b", Name: "Brookfield Community School", Town: "Ramsgate"},
	}, []Rule{{ID: "threat", Query: "knife", Category: "threat", Severity: "critical"}})
	fs := m.MatchMentions("Lovely concert at Harbourside Academy and Brookfield Community School tonight")
	if len(fs) != 2 || fs[0].School != "h" || fs[1].School != "b" {
		t.Fatalf("findings = %+v, want a mention for each school in order", fs)
	}
	for _, f := range fs {
		if f.Rule != MentionRule || f.Category != string(Mention) || f.Severity != string(Info) || len(f.Evidence) == 0 || f.Evidence[0].Kind != SchoolSpan {
			t.Errorf("mention finding = %+v", f)
		}
	}
	if fs := m.Match("Lovely concert at Harbourside Academy"); fs != nil {
		t.Errorf("Match (no mentions) = %+v, want nil", fs)
	}
	if fs := m.MatchMentions("Lovely concert in Dover tonight"); fs != nil {
		t.Errorf("no school named: %+v", fs)
	}
	if fs := m.MatchMentions("a knife at Harbourside Academy"); len(fs) != 1 || fs[0].Rule != "threat" {
		t.Errorf("a rule fires: %+v, want only the rule finding", fs)
	}
}

// When a post names two schools, a rule's finding attaches to the school
// the text is about (the one named nearest its evidence); the other gets a
// mention. Schools about as near both get it.
func TestFindingsAttachToTheSchoolTheyAreAbout(t *testing.T) {
	m := mustCompile(t, []School{
		{ID: "b", Name: "Brookfield Community School", Town: "Ramsgate"},
		{ID: "h", Name: "Harbourside Academy", Town: "Dover"},
	}, []Rule{{ID: "bully", Query: "bullying", Category: "pupil-bullying", Severity: "high"}})
	got := func(text string) []string {
		var out []string
		for _, f := range m.MatchMentions(text) {
			out = append(out, f.School+":"+f.Rule)
		}
		return out
	}
	if g := got("We moved our son from Brookfield Community School to Harbourside Academy last year, best decision we made. The bullying at Brookfield Community School was out of control."); !slices.Equal(g, []string{"b:bully", "h:mention"}) {
		t.Errorf("findings = %v, want the bullying at Brookfield and a mention of Harbourside", g)
	}
	if g := got("Bullying at Brookfield Community School and Harbourside Academy"); !slices.Equal(g, []string{"b:bully", "h:bully"}) {
		t.Errorf("findings = %v, want both schools: the text does not tell them apart", g)
	}
}
