package guidance

import (
	"slices"
	"testing"

	"github.com/goccy/go-yaml"

	"github.com/schoolwatch/schoolwatch/rules"
)

// exampleRules reads the built-in starter rule pack, the default rules
// users start from (the example config only replaces one of them).
func exampleRules(t *testing.T) []exampleRule {
	t.Helper()
	src := rules.BuiltinPack()
	var cfg struct {
		Rules []struct {
			ID       string         `yaml:"id"`
			Category rules.Category `yaml:"category"`
			Guidance string         `yaml:"guidance"`
		} `yaml:"rules"`
	}
	if err := yaml.Unmarshal(src, &cfg); err != nil {
		t.Fatalf("%s: %v", rules.BuiltinPackFile, err)
	}
	var out []exampleRule
	for _, r := range cfg.Rules {
		out = append(out, exampleRule{r.ID, r.Category, r.Guidance})
	}
	return out
}

type exampleRule struct {
	ID       string
	Category rules.Category
	Guidance string
}

// Every default rule names a section that exists and fits its category, and
// every section is reached from a default rule, directly or through a
// cross-reference in a section a rule names. first-steps (in every alert)
// and contacts are exempt.
func TestExampleRulesUseSections(t *testing.T) {
	p := Builtin()
	examples := exampleRules(t)
	if len(examples) == 0 {
		t.Fatal("the example config has no rules")
	}
	named := map[string]bool{"first-steps": true, "contacts": true}
	reached := map[string]bool{"first-steps": true, "contacts": true}
	var queue []*Section
	for _, r := range examples {
		s, ok := p.Section(r.Guidance)
		if !ok {
			t.Errorf("rule %s: guidance %q is not a section", r.ID, r.Guidance)
			continue
		}
		if !slices.Contains(s.Categories, r.Category) {
			t.Errorf("rule %s: category %q, but section %s fits %q", r.ID, r.Category, s.ID, s.Categories)
		}
		named[s.ID] = true
		if !reached[s.ID] {
			reached[s.ID] = true
			queue = append(queue, s)
		}
	}
	for len(queue) > 0 {
		s := queue[0]
		queue = queue[1:]
		for _, r := range p.Related(s) {
			if !reached[r.ID] {
				reached[r.ID] = true
				queue = append(queue, r)
			}
		}
	}
	for _, s := range p.Sections() {
		switch {
		case !reached[s.ID]:
			t.Errorf("section %s is not reached by any default rule, directly or by cross-reference", s.ID)
		case !named[s.ID]:
			t.Logf("section %s is reached only by cross-reference", s.ID)
		}
	}
	for _, c := range rules.Categories {
		if c == rules.OtherCategory || c == rules.Mention { // mention findings come from no pack rule
			continue
		}
		if !slices.ContainsFunc(examples, func(r exampleRule) bool { return r.Category == c }) {
			t.Errorf("no default rule has category %q", c)
		}
	}
}
