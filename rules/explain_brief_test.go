package rules

import (
	"bytes"
	"strings"
	"testing"
)

func TestExplainBrief(t *testing.T) {
	m := mustCompile(t, kent, testRules)
	tests := []struct {
		name, text string
		want       []string
		not        []string
	}{
		{"fires", "Harbourside Academy's pupil was stabbed, a kill threat",
			[]string{"Findings: 1\n", "school harbourside, rule threat (threat, critical): ",
				`harbourside Harbourside Academy (Dover) as "Harbourside Academy's"`,
				"Rules that fire:\n  threat [threat, critical] on \"kill\", \"stabbed\"\n",
				"Rules with no match (1): complaint\n"},
			[]string{"Normalised:", "✓", "would fire"}},
		{"no school", "St Mary's pupil was stabbed",
			[]string{"Findings: 0\n", "Schools mentioned: none", "Near misses: 1 ",
				"Rules that would fire, but no school is mentioned:\n  threat [threat, critical] on \"stabbed\""},
			[]string{"Rules that fire:"}},
		// A word under NOT is not why a rule fires, and it stops this one.
		{"not", "Harbourside Academy film about a stabbing; parents complained",
			[]string{"Findings: 1\n", "complaint [complaint, normal] on \"complained\"", "Rules with no match (1): threat"},
			[]string{`"film"`}},
	}
	for _, tt := range tests {
		var b bytes.Buffer
		if err := m.ExplainBrief(&b, tt.text); err != nil {
			t.Fatal(err)
		}
		got := b.String()
		for _, w := range tt.want {
			if !strings.Contains(got, w) {
				t.Errorf("%s: ExplainBrief lacks %q:\n%s", tt.name, w, got)
			}
		}
		for _, w := range tt.not {
			if strings.Contains(got, w) {
				t.Errorf("%s: ExplainBrief has %q:\n%s", tt.name, w, got)
			}
		}
		if !strings.HasPrefix(got, "Findings: ") {
			t.Errorf("%s: the verdict is not first:\n%s", tt.name, got)
		}
	}
}

// TestExplainBriefCapsWords: a long post quotes a rule's words up to a cap.
func TestExplainBriefCapsWords(t *testing.T) {
	m := mustCompile(t, kent, []Rule{{ID: "many", Query: `a1 OR a2 OR a3 OR a4 OR a5 OR a6 OR a7 OR a8`, Category: "threat", Severity: "high", Guidance: "threats-and-harassment"}})
	var b bytes.Buffer
	if err := m.ExplainBrief(&b, "Harbourside Academy a1 a2 a3 a4 a5 a6 a7 a8 a1 a2"); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), `on "a1", "a2", "a3", "a4", "a5", "a6", …`+"\n") {
		t.Errorf("words not capped at %d:\n%s", maxBriefWords, b.String())
	}
}
