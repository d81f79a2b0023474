package rules

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/schoolwatch/schoolwatch/yamlpos"
)

// kent is a small county of schools used by the matcher tests.
var kent = []School{
	{ID: "stmarys", Name: "St Mary's Church of England Primary School", Town: "Folkestone",
		Aliases: []string{"St Mary's Folkestone", "St Mary's"}, Hashtags: []string{"#StMarysFolkestone"},
		Domains: []string{"stmarys-folkestone.kent.sch.uk"}, Context: []string{"Hythe", "Cheriton"}},
	{ID: "harbourside", Name: "Harbourside Academy", Town: "Dover", Aliases: []string{"Harbourside"},
		Hashtags: []string{"#HarboursideAcademy"}, Domains: []string{"https://www.harbourside.example.sch.uk/"}, Context: []string{"Deal"}},
	{ID: "oak-ashford", Name: "Oak Academy", Town: "Ashford"},
	{ID: "oak-margate", Name: "Oak Academy", Town: "Margate"},
	{ID: "stjoseph", Name: "St Joseph's Roman Catholic Primary School", Town: "Canterbury"},
	{ID: "folkacad", Name: "Folkestone Academy", Town: "Folkestone"},
	{ID: "thegrange", Name: "The Grange School", Town: "Ramsgate"},
}

func mustCompile(t testing.TB, schools []School, rules []Rule) *Matcher {
	t.Helper()
	m, err := Compile(schools, rules)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestMentionedSchools(t *testing.T) {
	m := mustCompile(t, kent, nil)
	tests := []struct {
		name, text string
		want       []string
	}{
		{"configured clear alias", "Trouble at St Mary's Folkestone today", []string{"stmarys"}},
		{"hashtag camel case", "Well done #StMarysFolkestone", []string{"stmarys"}},
		{"hashtag lower case", "well done #stmarysfolkestone", []string{"stmarys"}},
		{"domain in URL", "see https://stmarys-folkestone.kent.sch.uk/letters/1.pdf", []string{"stmarys"}},
		{"domain with www and path", "www.harbourside.example.sch.uk/news", []string{"harbourside"}},
		{"full clear name", "Harbourside Academy is closed", []string{"harbourside"}},
		{"generated saint form", "Saint Mary's C of E Primary School in Folkestone", []string{"stmarys"}},
		{"generated CE form", "St Marys CE Primary, Hythe", []string{"stmarys"}},
		{"generated RC form", "St Joseph's RC Primary School in Canterbury", []string{"stjoseph"}},
		{"generated catholic form", "St Joseph's Catholic Primary, Canterbury", []string{"stjoseph"}},
		{"dedication alone needs context", "St Mary's church fete was lovely", nil},
		{"dedication in another town", "St Mary's in Oxford had a fire", nil},
		{"full name is a dedication too", "St Mary's Church of England Primary School, Oxford", nil},
		{"dedication with town", "St Mary's in Folkestone had a fire", []string{"stmarys"}},
		{"dedication with context term", "Parents at St Mary's say Hythe road is unsafe", []string{"stmarys"}},
		{"context too far away", "St Mary's " + strings.Repeat("word ", 13) + "Folkestone", nil},
		{"context just inside the window", "St Mary's " + strings.Repeat("word ", 11) + "Folkestone", []string{"stmarys"}},
		{"context before the alias", "Folkestone news: St Mary's fete", []string{"stmarys"}},
		{"single word alias needs context", "Harbourside restaurant review", nil},
		{"single word alias with town", "Harbourside in Dover", []string{"harbourside"}},
		{"stripped form with context", "Harbourside, Deal road", []string{"harbourside"}},
		{"shared name needs context", "Oak Academy results", nil},
		{"shared name with its town", "Oak Academy in Margate", []string{"oak-margate"}},
		{"shared name other town", "Oak Academy, Ashford", []string{"oak-ashford"}},
		{"town alone is not the school", "Folkestone harbour arm reopens", nil},
		{"town school full name", "Folkestone Academy pupils", []string{"folkacad"}},
		{"common full name counts anywhere", "The Grange School", []string{"thegrange"}},
		{"common full name in another town", "The Grange School in Oxford", nil},
		{"common full name, another town after a comma", "The Grange School, Oxford", nil},
		{"common full name, a month after in", "The Grange School in September", []string{"thegrange"}},
		{"name inside a longer name", "The Grange School of Dance", nil},
		{"short name of a business", "Harbourside cafe in Dover does great chips", nil},
		{"short name of a road, town near", "Harbourside Road in Dover is closed", nil},
		{"common name with town", "The Grange School in Ramsgate", []string{"thegrange"}},
		{"whole words only", "Harbourside Academyx and StMary's", nil},
		{"two schools in order", "Harbourside Academy and St Mary's Folkestone", []string{"harbourside", "stmarys"}},
		{"title and body", "Harbourside Academy\n\nletter home", []string{"harbourside"}},
		{"no mention", "nothing to see here", nil},
		{"name with its town, a comma and more", "The Grange Ramsgate vs Harbourside Dover, U14 final", []string{"thegrange", "harbourside"}},
		{"a comma then the sentence goes on", "we went to The Grange School, Mum said it was lovely", []string{"thegrange"}},
		{"the school's own car park", "is Harbourside Academy's car park still shut", []string{"harbourside"}},
		{"a role after the name and town", "the St Mary's Folkestone business manager has gone", []string{"stmarys"}},
		{"a business park", "Harbourside Academy Business Park units to let", nil},
		{"short form that keeps its type", "a Grange School teacher was filmed", []string{"thegrange"}},
		{"short form with its type elsewhere", "Oak Academy in Leeds gets a new roof", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := m.MentionedSchools(tt.text)
			if !slices.Equal(got, tt.want) {
				t.Errorf("MentionedSchools(%q) = %q, want %q", tt.text, got, tt.want)
			}
		})
	}
}

func TestAliasVariants(t *testing.T) {
	tests := []struct {
		name     string
		words    string
		generate []string // must be among generated or stripped forms
	}{
		{"CE and saint", "st marys church of england primary school", []string{
			"saint marys church of england primary school", "st marys c of e primary school",
			"st marys ce primary school", "st marys cofe primary school", "st marys primary school",
			"st marys church of england primary", "st marys ce primary", "st marys"}},
		{"RC", "st josephs roman catholic primary school", []string{"st josephs rc primary school", "st josephs catholic primary school", "st josephs primary"}},
		{"academy", "harbourside academy", []string{"harbourside"}},
		{"leading the", "the grange school", []string{"grange school", "grange"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			gen, strip := variants(strings.Fields(tt.words))
			var all []string
			for _, g := range append(gen, strip...) {
				all = append(all, strings.Join(g, " "))
			}
			for _, w := range tt.generate {
				if !slices.Contains(all, w) {
					t.Errorf("variants(%q) lacks %q; got %q", tt.words, w, all)
				}
			}
		})
	}
}

func TestWeakness(t *testing.T) {
	tests := []struct {
		words string
		kind  aliasKind
		want  ambiguity
	}{
		{"st marys", kindAlias, ambDedication},
		{"st marys church of england primary school", kindName, ambDedication},
		{"st marys folkestone", kindAlias, ambClear},
		{"harbourside", kindAlias, ambSingleWord},
		{"harbourside academy", kindName, ambClear},
		{"oak academy", kindName, ambClear}, // shared by two schools: decided at Compile
		{"the grange school", kindName, ambClear},
		{"holy trinity primary", kindName, ambClear},
		{"the grange", kindAlias, ambCommon},
		{"the grange school", kindAlias, ambCommon},
		{"st marys folkestone", kindHashtag, ambClear},
		{"harbourside example sch uk", kindDomain, ambClear},
	}
	for _, tt := range tests {
		if got := weakness(strings.Fields(tt.words), tt.kind); got != tt.want {
			t.Errorf("weakness(%q, %s) = %q, want %q", tt.words, tt.kind, got, tt.want)
		}
	}
}

func TestCompileErrors(t *testing.T) {
	schools := []School{
		{ID: "1", Name: "Harbourside Academy", Aliases: []string{"ok", "!!!"}},
		{ID: "1", Name: "???", Domains: []string{"localhost"}, Context: []string{"-"}},
		{Name: "Other School", Hashtags: []string{"#"}},
		{ID: "4"},
	}
	rules := []Rule{
		{ID: "a", Query: "kill"},
		{ID: "a", Query: "(kill OR bomb"},
		{ID: "", Query: ""},
		{ID: "c", Query: `teacher NEAR/x hit`},
	}
	_, err := Compile(schools, rules)
	var errs yamlpos.Errors
	if !errors.As(err, &errs) {
		t.Fatalf("Compile error %v is not yamlpos.Errors", err)
	}
	want := []string{
		"schools[0].aliases[1]: has no letters or digits",
		`schools[1].id: duplicate id "1" (also schools[0])`,
		"schools[1].name: has no letters or digits",
		"schools[1].domains[0]: is not a domain name (expected something like school.kent.sch.uk)",
		"schools[1].context[0]: has no letters or digits",
		"schools[2].id: missing",
		"schools[2].hashtags[0]: has no letters or digits",
		"schools[3].name: missing",
		`rules[1].id: duplicate id "a" (also rules[0])`,
		"rules[1].query: col 14: expected ')' to close '(' at col 1, found end of query",
		"rules[2].id: missing",
		"rules[2].query: col 1: empty query",
		`rules[3].query: col 9: NEAR distance "x" is not a whole number from 0 to 1000`,
	}
	var got []string
	for _, e := range errs {
		got = append(got, e.Error())
	}
	if !slices.Equal(got, want) {
		t.Errorf("errors:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	var one yamlpos.Error
	if !errors.As(err, &one) || one.Field != "schools[0].aliases[1]" {
		t.Errorf("errors.As(Error) = %+v", one)
	}
}

// TestInitialismAlias: a configured alias written in capitals ("WGGS") is
// one school's abbreviation and counts alone, in any case; a one-word
// alias that is a word ("Harbourside") still needs context, and an
// initialism two schools share needs its town.
func TestInitialismAlias(t *testing.T) {
	m := mustCompile(t, []School{
		{ID: "wggs", Name: "Westgate Grammar School for Girls", Town: "Westgate-on-Sea", Aliases: []string{"WGGS"}},
		{ID: "harbourside", Name: "Harbourside Academy", Town: "Dover", Aliases: []string{"Harbourside"}},
		{ID: "sja", Name: "St John's Academy", Town: "Gravesend", Aliases: []string{"SJA"}},
		{ID: "sja2", Name: "St James Academy", Town: "Maidstone", Aliases: []string{"SJA"}},
	}, nil)
	for text, want := range map[string][]string{
		"the wggs fireworks night was a blast":  {"wggs"},
		"WGGS results out":                      {"wggs"},
		"harbourside fireworks were a blast":    nil,
		"sja open evening":                      nil,
		"sja in Maidstone open evening tonight": {"sja2"},
	} {
		if got := m.MentionedSchools(text); !slices.Equal(got, want) {
			t.Errorf("MentionedSchools(%q) = %q, want %q", text, got, want)
		}
	}
}

// TestPlaceNamedSchool: a school named after its area ("Nab End Primary",
// with Nab End a context place) is recognised by the area's name where the
// text talks about schools, not where it only names the place; a context
// street matches written either way ("Cobden St", "Cobden Street").
func TestPlaceNamedSchool(t *testing.T) {
	m := mustCompile(t, []School{
		{ID: "nabend", Name: "Nab End Primary School", Town: "Hebbleworth", Context: []string{"Nab End", "Shuttle Row"}},
		{ID: "hilda", Name: "St Hilda's Catholic Primary School", Town: "Hebbleworth", Aliases: []string{"St Hilda's"}, Context: []string{"Cobden Street"}},
	}, nil)
	for text, want := range map[string][]string{
		"some dad in the nab end playground was shouting":  {"nabend"},
		"a van parked on shuttle row by nab end every day": {"nabend"},
		"nab end pupils did a sponsored walk":              {"nabend"},
		"new chippy opening in nab end":                    nil,
		"little lad from st hildas on cobden st":           {"hilda"},
		"st hildas on Cobden Street fete":                  {"hilda"},
		"st hildas fete":                                   nil,
	} {
		if got := m.MentionedSchools(text); !slices.Equal(got, want) {
			t.Errorf("MentionedSchools(%q) = %q, want %q", text, got, want)
		}
	}
}
