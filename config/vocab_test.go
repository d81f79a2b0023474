package config

import (
	"slices"
	"testing"

	"github.com/schoolwatch/schoolwatch/guidance"
	"github.com/schoolwatch/schoolwatch/rules"
)

// TestVocabulary checks config's defaults against the one list of rule
// values in package rules, and those against the built-in guidance pack:
// every default is a value a rule may carry, and every category has a
// section that fits it.
func TestVocabulary(t *testing.T) {
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
		if len(p.ForCategory(c)) == 0 && c != rules.Mention { // a mention carries first-steps alone
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
