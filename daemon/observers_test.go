package daemon

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

const observedConfig = `mail: { fallback: la@example.org }
schools:
  - { id: "1", name: Oak Primary School, town: Folkestone }
  - { id: "2", name: Elm Primary School, town: Dover, paused: true }
observers:
  - address: "County Safeguarding <Safeguarding@LA.example.gov.uk>"
    severities: [critical]
  - address: lado@la.example.gov.uk
    categories: [allegation]
  - address: safeguarding@la.example.gov.uk
    categories: [safeguarding]
  - address: press@la.example.gov.uk
    categories: [media]
    severities: [high, normal]
rules:
  - { id: threat, query: knife, category: threat, severity: critical }
`

// TestObserversFor is the hand-off to the router: the addresses an
// observer wants for a finding's school, category and severity.
func TestObserversFor(t *testing.T) {
	p, err := Compile(writeConfig(t, observedConfig), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if p.Observers.Len() != 4 {
		t.Fatalf("%d observers, want 4", p.Observers.Len())
	}
	cases := []struct {
		school, category, severity string
		want                       []string
	}{
		{"1", "threat", "critical", []string{"safeguarding@la.example.gov.uk"}},
		{"1", "allegation", "critical", []string{"safeguarding@la.example.gov.uk", "lado@la.example.gov.uk"}},
		{"1", "safeguarding", "critical", []string{"safeguarding@la.example.gov.uk"}}, // once, though two entries want it
		{"1", "allegation", "low", []string{"lado@la.example.gov.uk"}},
		{"1", "media", "normal", []string{"press@la.example.gov.uk"}},
		{"1", "media", "low", nil},
		{"1", "complaint", "high", nil},
		{"2", "threat", "critical", nil}, // paused
		{"9", "threat", "critical", []string{"safeguarding@la.example.gov.uk"}},
	}
	for _, tc := range cases {
		got := p.Observers.For(tc.school, tc.category, tc.severity)
		if !slices.Equal(got, tc.want) {
			t.Errorf("For(%s, %s, %s) = %v, want %v", tc.school, tc.category, tc.severity, got, tc.want)
		}
	}
	var none *Observers
	if none.For("1", "threat", "critical") != nil || none.Len() != 0 {
		t.Error("a nil Observers has observers")
	}
}

// TestPausedSchoolIsNotMatched: a paused school has no findings, and no
// per-school feeds, but its names are still checked.
func TestPausedSchoolIsNotMatched(t *testing.T) {
	p, err := Compile(writeConfig(t, observedConfig+`feeds:
  - { id: news, per_school: true, url: "https://example.org/?q={{ .Short }}" }
`), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if fs := p.Matcher.Match("A knife was found at Oak Primary School in Folkestone"); len(fs) != 1 || fs[0].School != "1" {
		t.Errorf("findings for Oak = %+v", fs)
	}
	if fs := p.Matcher.Match("A knife was found at Elm Primary School in Dover"); len(fs) != 0 {
		t.Errorf("a paused school has findings: %+v", fs)
	}
	var ids []string
	for _, f := range p.Feeds {
		ids = append(ids, f.ID)
	}
	if !slices.Equal(ids, []string{"news/1"}) {
		t.Errorf("feeds = %v, want only the school that is not paused", ids)
	}
	if !slices.ContainsFunc(p.Warnings, func(w string) bool { return strings.Contains(w, "1 of 2 schools are paused and get no alerts: 2") }) {
		t.Errorf("warnings %q do not mention the paused school", p.Warnings)
	}

	bad := strings.Replace(observedConfig, "{ id: \"2\", name: Elm Primary School, town: Dover, paused: true }",
		"{ id: \"2\", name: Elm Primary School, town: Dover, paused: true, aliases: [\"!!\"] }", 1)
	_, err = Compile(writeConfig(t, bad), time.Now())
	if err == nil || !strings.Contains(err.Error(), ":4: schools[1].aliases[0]: has no letters or digits") {
		t.Errorf("a paused school's bad alias: %v", err)
	}
}

// TestShortNameIsAnAlias: short_name is matched like an alias, and a
// problem with it is reported on short_name, at the right school when
// paused schools come before it.
func TestShortNameIsAnAlias(t *testing.T) {
	p, err := Compile(writeConfig(t, `mail: { fallback: la@example.org }
schools:
  - { id: "1", name: Kingsmead Wood Community Primary School, short_name: Kingsmead Wood, town: Dover }
rules:
  - { id: threat, query: knife, category: threat, severity: critical }
`), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if fs := p.Matcher.Match("knife seen near Kingsmead Wood today"); len(fs) != 1 {
		t.Errorf("short name not matched: %+v", fs)
	}
	_, err = Compile(writeConfig(t, `mail: { fallback: la@example.org }
schools:
  - { id: "0", name: Ash School, paused: true }
  - { id: "1", name: Oak School, aliases: [Oak], short_name: "??" }
`), time.Now())
	if err == nil || !strings.Contains(err.Error(), ":4: schools[1].short_name: has no letters or digits") {
		t.Errorf("a bad short name: %v", err)
	}
}

// TestPerSchoolFeedWarning: schools a per_school template cannot serve are
// named in a warning, not an error.
func TestPerSchoolFeedWarning(t *testing.T) {
	p, err := Compile(writeConfig(t, `mail: { fallback: la@example.org }
schools:
  - { id: "1", name: Oak School, domains: [oak.example.sch.uk] }
  - { id: "2", name: Elm School }
feeds:
  - { id: site, per_school: true, url: "https://{{ .Domain }}/feed/" }
`), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(p.Warnings, func(w string) bool {
		return strings.Contains(w, "feeds[0] (site): 1 schools have no domain or hashtag for its URL template and are not searched by it: 2")
	}) {
		t.Errorf("warnings = %q", p.Warnings)
	}
}

// TestCompileReadsSchoolsFileEachTime: a reload compiles again, so an edit
// to schools_file reaches the new plan.
func TestCompileReadsSchoolsFileEachTime(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "c.yml")
	sch := filepath.Join(dir, "schools.yml")
	write := func(path, s string) {
		if err := os.WriteFile(path, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(cfg, "mail: { fallback: la@example.org }\nschools_file: schools.yml\n")
	write(sch, "schools:\n  - { id: \"1\", name: Kingsmead Primary School }\n")
	p, err := Compile(cfg, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if got := p.Matcher.MentionedSchools("Kingsmead Primary School and Sandgate Primary School"); !slices.Equal(got, []string{"1"}) {
		t.Fatalf("mentioned = %v", got)
	}
	write(sch, "schools:\n  - { id: \"1\", name: Kingsmead Primary School }\n  - { id: \"2\", name: Sandgate Primary School }\n")
	p, err = Compile(cfg, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if got := p.Matcher.MentionedSchools("Kingsmead Primary School and Sandgate Primary School"); !slices.Equal(got, []string{"1", "2"}) {
		t.Fatalf("after the edit, mentioned = %v", got)
	}
}
