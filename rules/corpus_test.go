package rules

import (
	"bufio"
	"os"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/goccy/go-yaml"
)

// corpusSchools are the schools the labelled corpus is written about.
var corpusSchools = []School{
	{ID: "990001", Name: "St Mary's Church of England Primary School", Town: "Folkestone",
		Aliases: []string{"St Mary's Folkestone", "St Mary's"}, Hashtags: []string{"#StMarysFolkestone"},
		Domains: []string{"stmarys-folkestone.example.sch.uk"}, Context: []string{"Folkestone", "Hythe", "Cheriton"}},
	{ID: "990002", Name: "Harbourside Academy", Town: "Dover", Aliases: []string{"Harbourside"},
		Hashtags: []string{"#HarboursideAcademy"}, Domains: []string{"harbourside.example.sch.uk"}, Context: []string{"Dover", "Deal"}},
	{ID: "990003", Name: "St Joseph's Catholic Primary School", Town: "Canterbury"},
	{ID: "990004", Name: "Brookfield Community School", Town: "Ramsgate", Aliases: []string{"Brookfield"}},
	{ID: "990005", Name: "Oak Academy", Town: "Ashford"},
	{ID: "990006", Name: "Oak Academy", Town: "Margate"},
}

// exampleRules returns the rules users start from: the built-in starter
// pack with the example config's rules and term lists merged over it, as
// config.Load merges them (an entry with a pack rule's id replaces it). The
// corpus holds those rules to account.
func exampleRules(t testing.TB) ([]Rule, TermLists) {
	t.Helper()
	type ruleYAML struct {
		ID, Query string
		Category  Category
		Severity  Severity
		Guidance  string
	}
	type file struct {
		Terms map[string][]string `yaml:"terms"`
		Rules []ruleYAML          `yaml:"rules"`
	}
	var pack, ex file
	if err := yaml.Unmarshal(BuiltinPack(), &pack); err != nil {
		t.Fatalf("%s: %v", BuiltinPackFile, err)
	}
	b, err := os.ReadFile("../schoolwatch.example.yml")
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(b, &ex); err != nil {
		t.Fatalf("schoolwatch.example.yml: %v", err)
	}
	lists := TermLists{}
	for k, v := range pack.Terms {
		lists[k] = v
	}
	for k, v := range ex.Terms {
		lists[k] = v
	}
	var rules []Rule
	configured := map[string]bool{}
	for _, r := range ex.Rules {
		configured[r.ID] = true
		rules = append(rules, Rule{ID: r.ID, Query: r.Query, Category: r.Category, Severity: r.Severity, Guidance: r.Guidance})
	}
	for _, r := range pack.Rules {
		if !configured[r.ID] {
			rules = append(rules, Rule{ID: r.ID, Query: r.Query, Category: r.Category, Severity: r.Severity, Guidance: r.Guidance})
		}
	}
	return rules, lists
}

type labelled struct {
	line       int
	schools    []string
	categories []string
	text       string
}

func loadCorpus(t testing.TB, name string) []labelled {
	t.Helper()
	f, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []labelled
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		parts := strings.SplitN(line, "|", 3)
		if len(parts) != 3 {
			t.Fatalf("%s:%d: want schools|categories|text", name, n)
		}
		list := func(s string) []string {
			if s == "-" {
				return nil
			}
			l := strings.Split(s, ",")
			sort.Strings(l)
			return l
		}
		out = append(out, labelled{n, list(parts[0]), list(parts[1]), parts[2]})
	}
	return out
}

// TestCorpus measures school-mention and per-category precision and recall
// on the labelled corpus with the example config's rules, which were tuned
// on it.
func TestCorpus(t *testing.T) {
	corpus := loadCorpus(t, "testdata/corpus.txt")
	if len(corpus) < 200 {
		t.Errorf("corpus has %d posts, want at least 200", len(corpus))
	}
	// Dangerous categories must not be missed; the rest may trade a
	// little recall for fewer mails.
	scoreCorpus(t, corpus, 0.97, 0.95, 0.85, map[string]float64{"threat": 0.95, "allegation": 0.9, "safeguarding": 0.9}, 0.8, 5)
}

func scoreCorpus(t *testing.T, corpus []labelled, schoolP, schoolR, catP float64, minRecall map[string]float64, otherR float64, minPositives int) {
	rules, lists := exampleRules(t)
	m, err := CompileLists(corpusSchools, rules, lists)
	if err != nil {
		t.Fatal(err)
	}
	type score struct{ tp, fp, fn int }
	cats := map[string]*score{}
	for _, r := range rules {
		cats[string(r.Category)] = &score{}
	}
	var schools score
	for _, c := range corpus {
		got := m.MentionedSchools(c.text)
		sort.Strings(got)
		for _, s := range got {
			if slices.Contains(c.schools, s) {
				schools.tp++
			} else {
				schools.fp++
				t.Logf("line %d: false school %s: %s", c.line, s, c.text)
			}
		}
		for _, s := range c.schools {
			if !slices.Contains(got, s) {
				schools.fn++
				t.Logf("line %d: missed school %s: %s", c.line, s, c.text)
			}
		}
		var fired []string
		for _, f := range m.Match(c.text) {
			if !slices.Contains(fired, f.Category) {
				fired = append(fired, f.Category)
			}
		}
		for cat, s := range cats {
			want, have := slices.Contains(c.categories, cat), slices.Contains(fired, cat)
			switch {
			case want && have:
				s.tp++
			case have:
				s.fp++
				t.Logf("line %d: false %s: %s", c.line, cat, c.text)
			case want:
				s.fn++
				t.Logf("line %d: missed %s: %s", c.line, cat, c.text)
			}
		}
	}
	pr := func(s score) (float64, float64) {
		p, r := 1.0, 1.0
		if s.tp+s.fp > 0 {
			p = float64(s.tp) / float64(s.tp+s.fp)
		}
		if s.tp+s.fn > 0 {
			r = float64(s.tp) / float64(s.tp+s.fn)
		}
		return p, r
	}
	p, r := pr(schools)
	t.Logf("%-13s precision %.3f recall %.3f (tp %d fp %d fn %d)", "school", p, r, schools.tp, schools.fp, schools.fn)
	if p < schoolP || r < schoolR {
		t.Errorf("school mentions: precision %.3f recall %.3f, want >= %.2f and >= %.2f", p, r, schoolP, schoolR)
	}
	names := make([]string, 0, len(cats))
	for c := range cats {
		names = append(names, c)
	}
	sort.Strings(names)
	for _, c := range names {
		s := *cats[c]
		p, r := pr(s)
		t.Logf("%-13s precision %.3f recall %.3f (tp %d fp %d fn %d)", c, p, r, s.tp, s.fp, s.fn)
		wantR, ok := minRecall[c]
		if !ok {
			wantR = otherR
		}
		if s.tp+s.fn < minPositives {
			t.Errorf("%s: only %d positive posts, want at least %d", c, s.tp+s.fn, minPositives)
		}
		if p < catP || r < wantR {
			t.Errorf("%s: precision %.3f recall %.3f, want >= %.2f and >= %.2f", c, p, r, catP, wantR)
		}
	}
}

// TestExampleRules keeps the example config's rules usable as a starting
// point: they compile, cover every alerting category once, and name
// guidance sections that exist in the built-in pack.
func TestExampleRules(t *testing.T) {
	sections := []string{"first-steps", "parental-complaints", "allegations-against-staff", "safeguarding-concern",
		"threats-and-harassment", "defamation-and-legal", "content-removal", "pupil-images-and-data",
		"media-enquiries", "staff-wellbeing", "prevention", "contacts",
		"sexual-images", "hate-abuse", "bomb-threats", "doxxing", "self-harm-and-suicide", "pupil-bullying", "scams", "misinformation"}
	rules, lists := exampleRules(t)
	if _, err := CompileLists(corpusSchools, rules, lists); err != nil {
		t.Fatal(err)
	}
	var cats []string
	for _, r := range rules {
		if !slices.Contains(sections, r.Guidance) {
			t.Errorf("rule %s: guidance %q is not a built-in section", r.ID, r.Guidance)
		}
		cats = append(cats, string(r.Category))
	}
	sort.Strings(cats)
	want := []string{"allegation", "bomb-threats", "complaint", "defamation", "doxxing", "hate-abuse", "impersonation", "media", "misinformation",
		"privacy", "pupil-bullying", "safeguarding", "scams", "self-harm-and-suicide", "sexual-images", "staff-abuse", "threat"}
	if !slices.Equal(cats, want) {
		t.Errorf("example rule categories = %q, want one each of %q", cats, want)
	}
}
