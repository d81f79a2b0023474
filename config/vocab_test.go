package config

import (
	"slices"
	"testing"

	"github.com/schoolwatch/schoolwatch/guidance"
	"github.com/schoolwatch/schoolwatch/rules"
)

// TestVocabulary checks config's view of the rule values against their one
// list in package rules, and against the built-in guidance pack: the string
// lists are the rules lists, every default is a value a rule may carry, and
// every category has a section that fits it.
func TestVocabulary(t *testing.T) {
	for _, l := range []struct {
		name      string
		got, want []string
	}{
		{"Categories", Categories, rules.Names(rules.Categories)},
		{"Severities", Severities, rules.Names(rules.Severities)},
		{"Deliveries", Deliveries, rules.Names(rules.Deliveries)},
	} {
		if !slices.Equal(l.got, l.want) {
			t.Errorf("config.%s = %q, want rules.%s %q", l.name, l.got, l.name, l.want)
		}
	}
	if !slices.Contains(rules.Categories, rules.Category(DefaultCategory)) {
		t.Errorf("DefaultCategory %q is not a category", DefaultCategory)
	}
	if !slices.Contains(rules.Severities, rules.Severity(DefaultSeverity)) {
		t.Errorf("DefaultSeverity %q is not a severity", DefaultSeverity)
	}
	if !slices.Contains(rules.Deliveries, rules.Delivery(DefaultDelivery)) {
		t.Errorf("DefaultDelivery %q is not a delivery", DefaultDelivery)
	}
	p := guidance.Builtin()
	for _, c := range rules.Categories {
		if len(p.ForCategory(c)) == 0 {
			t.Errorf("category %q has no section in the built-in guidance pack", c)
		}
	}
	for _, s := range p.Sections() {
		for _, c := range s.Categories {
			if !slices.Contains(rules.Categories, c) {
				t.Errorf("section %s fits %q, which is not a category", s.ID, c)
			}
		}
	}
}
