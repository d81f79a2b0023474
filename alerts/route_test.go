package alerts

import (
	"io"
	"log/slog"
	"slices"
	"testing"

	"github.com/schoolwatch/schoolwatch/config"
)

// TestRecipients: a finding reaches exactly the leaders whose roles the rule
// notifies, digest_only leaders wait for the digest unless it is critical,
// and a school with nobody in those roles falls back.
func TestRecipients(t *testing.T) {
	school := &config.School{ID: "1", Leaders: []config.Leader{
		{Name: "Head", Email: "Head@X.org", Roles: []string{"head"}},
		{Name: "DSL", Email: "dsl@x.org", Roles: []string{"dsl", "deputy"}},
		{Name: "Chair", Email: "chair@x.org", Roles: []string{"chair"}, DigestOnly: true},
		{Name: "Head again", Email: "head@x.org ", Roles: []string{"dsl"}},
	}}
	tests := []struct {
		name     string
		rule     config.Rule
		fallback string
		want     []string // email, with "+digest" when it waits for the digest
	}{
		{"default roles", config.Rule{ID: "r", Severity: "high", Notify: []string{"head", "dsl"}, Delivery: "immediate"}, "", []string{"head@x.org", "dsl@x.org"}},
		{"one role only", config.Rule{ID: "r", Severity: "high", Notify: []string{"deputy"}, Delivery: "immediate"}, "", []string{"dsl@x.org"}},
		{"digest rule", config.Rule{ID: "r", Severity: "normal", Notify: []string{"head"}, Delivery: "digest"}, "", []string{"head@x.org+digest"}},
		{"digest_only leader", config.Rule{ID: "r", Severity: "high", Notify: []string{"chair"}, Delivery: "immediate"}, "", []string{"chair@x.org+digest"}},
		{"critical is never held", config.Rule{ID: "r", Severity: "critical", Notify: []string{"chair"}, Delivery: "digest"}, "", []string{"chair@x.org"}},
		{"no leader in role: fallback", config.Rule{ID: "r", Severity: "high", Notify: []string{"hr"}, Delivery: "immediate"}, "LA@x.org", []string{"la@x.org"}},
		{"no leader, no fallback", config.Rule{ID: "r", Severity: "high", Notify: []string{"hr"}, Delivery: "immediate"}, "", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := &config.Config{Mail: config.Mail{Fallback: tc.fallback}}
			r := NewRouter(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
			var got []string
			for _, rc := range r.Recipients(school, &tc.rule) {
				s := rc.Email
				if rc.Digest {
					s += "+digest"
				}
				got = append(got, s)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("recipients = %v, want %v", got, tc.want)
			}
		})
	}
}
