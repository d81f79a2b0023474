package rules

import (
	"slices"
	"testing"
)

// TestVocabulary ties the value lists to their constants and to Rank: each
// list is non-empty and has no repeats, every named constant is in its list,
// and a severity's rank is its place in Severities, most severe first.
func TestVocabulary(t *testing.T) {
	checkList(t, "Categories", Categories)
	checkList(t, "Severities", Severities)
	checkList(t, "Deliveries", Deliveries)
	if !slices.Contains(Categories, OtherCategory) {
		t.Errorf("Categories lacks %q", OtherCategory)
	}
	if !slices.Contains(Categories, Mention) {
		t.Errorf("Categories lacks %q", Mention)
	}
	for _, d := range []Delivery{Immediate, Digest, Weekly} {
		if !slices.Contains(Deliveries, d) {
			t.Errorf("Deliveries lacks %q", d)
		}
	}
	for want, s := range []Severity{Critical, High, Normal, Low, Info} {
		if got := s.Rank(); got != want {
			t.Errorf("%s.Rank() = %d, want %d", s, got, want)
		}
	}
	if len(Severities) != 5 {
		t.Errorf("Severities = %q: a new severity needs a rank test and a colour in alerts", Severities)
	}
	if r := Severity("urgent").Rank(); r != len(Severities) {
		t.Errorf("unknown severity ranks %d, want %d (after every known one)", r, len(Severities))
	}
	if got := Join(Deliveries); got != "immediate, digest, weekly" {
		t.Errorf("Join(Deliveries) = %q", got)
	}
}

func checkList[T ~string](t *testing.T, name string, list []T) {
	t.Helper()
	if len(list) == 0 {
		t.Errorf("%s is empty", name)
	}
	for i, v := range list {
		if v == "" || slices.Index(list, v) != i {
			t.Errorf("%s[%d] = %q is empty or repeated", name, i, v)
		}
	}
}
