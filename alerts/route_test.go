package alerts

import (
	"slices"
	"testing"

	"github.com/schoolwatch/schoolwatch/rules"
)

// TestRecipients: a finding reaches exactly the leaders whose roles the rule
// notifies, digest_only leaders wait for the digest unless it is critical,
// and a school with nobody in those roles falls back.
func TestRecipients(t *testing.T) {
	school := &School{ID: "1", Leaders: []Leader{
		{Name: "Head", Email: "Head@X.org", Roles: []string{"head"}, Mentions: rules.Digest},
		{Name: "DSL", Email: "dsl@x.org", Roles: []string{"dsl", "deputy"}, Mentions: rules.Weekly},
		{Name: "Chair", Email: "chair@x.org", Roles: []string{"chair"}, DigestOnly: true},
		{Name: "Head again", Email: "head@x.org ", Roles: []string{"dsl"}},
	}}
	tests := []struct {
		name     string
		rule     Rule
		fallback string
		want     []string // email, with "+digest" when it waits for the digest
	}{
		{"default roles", Rule{ID: "r", Severity: "high", Notify: []string{"head", "dsl"}, Delivery: "immediate"}, "", []string{"head@x.org", "dsl@x.org"}},
		{"one role only", Rule{ID: "r", Severity: "high", Notify: []string{"deputy"}, Delivery: "immediate"}, "", []string{"dsl@x.org"}},
		{"digest rule", Rule{ID: "r", Severity: "normal", Notify: []string{"head"}, Delivery: "digest"}, "", []string{"head@x.org+digest"}},
		{"digest_only leader", Rule{ID: "r", Severity: "high", Notify: []string{"chair"}, Delivery: "immediate"}, "", []string{"chair@x.org+digest"}},
		{"critical is never held", Rule{ID: "r", Severity: "critical", Notify: []string{"chair"}, Delivery: "digest"}, "", []string{"chair@x.org"}},
		{"no leader in role: fallback", Rule{ID: "r", Severity: "high", Notify: []string{"hr"}, Delivery: "immediate"}, "LA@x.org", []string{"la@x.org"}},
		{"no leader, no fallback", Rule{ID: "r", Severity: "high", Notify: []string{"hr"}, Delivery: "immediate"}, "", nil},
		{"mentions: to who asked, in their digest", MentionRoute, "LA@x.org", []string{"head@x.org+digest", "dsl@x.org+weekly"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := NewRouter(Routes{Fallback: tc.fallback}, nil)
			var got []string
			for _, rc := range r.Recipients(school, &tc.rule) {
				s := rc.Email
				if rc.Delivery != rules.Immediate {
					s += "+" + string(rc.Delivery)
				}
				got = append(got, s)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("recipients = %v, want %v", got, tc.want)
			}
		})
	}
}

// Observers are copied on the findings they ask for, once, beside the
// leaders and after any fallback, with the leaders' delivery; never on a
// mention.
func TestObserversAreCopied(t *testing.T) {
	school := &School{ID: "1", Leaders: []Leader{{Name: "Head", Email: "head@x.org", Roles: []string{"head"}, Mentions: rules.Digest}}}
	r := NewRouter(Routes{Observers: func(s string, c rules.Category, sev rules.Severity) []string {
		if sev == rules.Critical {
			return []string{"safeguarding@la.example", "head@x.org"}
		}
		return nil
	}}, nil)
	var got []string
	for _, rc := range r.Recipients(school, &Rule{ID: "t", Severity: rules.Critical, Notify: []string{"head"}, Delivery: rules.Immediate}) {
		got = append(got, rc.Email+"+"+string(rc.Delivery))
	}
	if want := []string{"head@x.org+immediate", "safeguarding@la.example+immediate"}; !slices.Equal(got, want) {
		t.Errorf("critical: recipients %v, want %v", got, want)
	}
	if rcs := r.Recipients(school, &Rule{ID: "c", Severity: rules.Normal, Notify: []string{"head"}}); len(rcs) != 1 {
		t.Errorf("normal: recipients %v, want the head only", rcs)
	}
	if rcs := r.Recipients(school, &MentionRoute); len(rcs) != 1 || rcs[0].Email != "head@x.org" {
		t.Errorf("mention: recipients %v, want the head only", rcs)
	}
}
