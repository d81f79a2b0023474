package daemon

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/schoolwatch/schoolwatch/alerts"
	"github.com/schoolwatch/schoolwatch/rules"
	"github.com/schoolwatch/schoolwatch/watchers"
)

// TestRoutesFromThePlan: the routing table carries each rule as compiled,
// so an alert for a rule that names no guidance section carries its
// category's, while the loaded config is left as written; leaders keep
// their roles, digest_only and heartbeat settings.
func TestRoutesFromThePlan(t *testing.T) {
	path := writeConfig(t, `mail:
  fallback: la@council.example
schools:
  - id: oak
    name: Oak Academy
    town: Ashford
    leaders:
      - { name: Head, email: head@oak.example, roles: [head] }
      - { name: Chair, email: chair@oak.example, roles: [chair], digest_only: true, heartbeat: false }
rules_builtin: false
model_builtin: false
rules:
  - { id: bully, query: bullied, category: pupil-bullying, severity: high, notify: [head, chair] }
`)
	p, err := Compile(path, time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	if g := p.Config.Rules[0].Guidance; g != "" {
		t.Errorf("Compile wrote guidance %q into the loaded config", g)
	}
	rt := p.Routes
	if rt.Fallback != "la@council.example" || len(rt.Schools) != 1 || len(rt.Rules) != 1 {
		t.Fatalf("routes = %+v", rt)
	}
	want := alerts.Rule{ID: "bully", Notify: []string{"head", "chair"}, Delivery: rules.Immediate, Severity: rules.High, Category: "pupil-bullying", Guidance: "pupil-bullying"}
	if got := rt.Rules[0]; got.ID != want.ID || got.Delivery != want.Delivery || got.Severity != want.Severity || got.Category != want.Category || got.Guidance != want.Guidance || len(got.Notify) != 2 {
		t.Errorf("rule = %+v, want %+v", got, want)
	}
	head, chair := rt.Schools[0].Leaders[0], rt.Schools[0].Leaders[1]
	if !head.Heartbeat || head.DigestOnly || chair.Heartbeat || !chair.DigestOnly || head.Mentions != rules.Digest || chair.Mentions != "" {
		t.Errorf("leaders = %+v", rt.Schools[0].Leaders)
	}

	it := watchers.Item{Key: "k1", FeedID: "news", Title: "Oak Academy pupils bullied", Text: "Pupils at Oak Academy Ashford bullied online"}
	fs := p.Matcher.Match(it.Content())
	ps := alerts.NewRouter(rt, nil).Route(it, fs)
	if len(ps) != 2 {
		t.Fatalf("%d pending rows, want one each for the head and the chair", len(ps))
	}
	for _, row := range ps {
		var a alerts.Alert
		if err := json.Unmarshal(row.Payload, &a); err != nil {
			t.Fatal(err)
		}
		if a.Guidance != "pupil-bullying" || a.Category != "pupil-bullying" || a.SchoolName != "Oak Academy" {
			t.Errorf("alert = %+v, want the compiled guidance section", a)
		}
		wantDelivery := "immediate"
		if row.Recipient == "chair@oak.example" {
			wantDelivery = "digest"
		}
		if row.Delivery != wantDelivery {
			t.Errorf("%s: delivery %q, want %q", row.Recipient, row.Delivery, wantDelivery)
		}
	}
}
