package daemon

import (
	"strings"
	"testing"
	"time"

	"github.com/schoolwatch/schoolwatch/config"
)

const packSchool = `schools:
  - id: oak
    name: Oak Academy
    town: Ashford
    leaders: [{ email: head@oak.example, roles: [head, dsl] }]
`

// The built-in pack runs with no rules configured; a configured rule with a
// pack rule's id replaces it in place; new ids add rules; and
// rules_builtin: false leaves only the configured ones.
func TestBuiltinRulePack(t *testing.T) {
	p, err := Compile(writeConfig(t, packSchool), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Config.Rules) < 17 || p.Config.PackVersion == "" {
		t.Fatalf("no rules configured: %d rules, pack %q; want the whole starter pack", len(p.Config.Rules), p.Config.PackVersion)
	}
	for _, r := range p.Config.Rules {
		if r.Source != config.SourceBuiltin {
			t.Errorf("rule %s: source %q, want built-in", r.ID, r.Source)
		}
	}
	if fs := p.Matcher.Match("a boy got stabbed outside Oak Academy in Ashford"); len(fs) == 0 || fs[0].Rule != "threat" {
		t.Errorf("built-in threat rule: findings %v", fs)
	}

	p, err = Compile(writeConfig(t, packSchool+`rules:
  - { id: threat, query: '"purple elephant"', category: threat, severity: high }
  - { id: extra, query: biscuits, category: complaint }
`), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	r, _ := p.Config.Rule("threat")
	if r.Source != config.SourceOverride || r.Severity != "high" || p.Config.Rules[0].ID != "threat" {
		t.Errorf("override: %+v, first rule %s", r, p.Config.Rules[0].ID)
	}
	if fs := p.Matcher.Match("a boy got stabbed outside Oak Academy in Ashford"); len(fs) != 0 {
		t.Errorf("the replaced threat rule still fires: %v", fs)
	}
	if r, ok := p.Config.Rule("extra"); !ok || r.Source != config.SourceConfig {
		t.Errorf("added rule: %+v %v", r, ok)
	}

	p, err = Compile(writeConfig(t, packSchool+`rules_builtin: false
rules:
  - { id: extra, query: biscuits, category: complaint }
`), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Config.Rules) != 1 || p.Config.PackVersion != "" {
		t.Errorf("rules_builtin: false: %d rules, pack %q; want only the configured one", len(p.Config.Rules), p.Config.PackVersion)
	}
}

// Configured term lists add to the pack's or replace one by name, and an
// unknown @list is reported at its file, line, field and column.
func TestTermListsInConfig(t *testing.T) {
	p, err := Compile(writeConfig(t, packSchool+`terms:
  staff: [dinnerlady]
  snacks: [biscuits, "custard creams"]
rules:
  - { id: snack, query: '@snacks NEAR/5 @staff', category: complaint }
`), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if fs := p.Matcher.Match("Oak Academy Ashford dinnerlady hoarding custard creams"); len(fs) != 1 || fs[0].Rule != "snack" {
		t.Errorf("configured lists: findings %v", fs)
	}
	if got := p.Config.TermLists["staff"]; len(got) != 1 {
		t.Errorf("@staff = %v: a configured list replaces the pack's", got)
	}

	_, err = Compile(writeConfig(t, packSchool+`rules:
  - { id: bad, query: 'knife AND @weapon', category: threat }
`), time.Now())
	if err == nil || !strings.Contains(err.Error(), "c.yml:7: rules[0].query: col 11: unknown term list @weapon") || !strings.Contains(err.Error(), "@weapons") {
		t.Errorf("unknown list: err = %v", err)
	}
}
