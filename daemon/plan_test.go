package daemon

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/schoolwatch/schoolwatch/config"
	"github.com/schoolwatch/schoolwatch/guidance"
	"github.com/schoolwatch/schoolwatch/yamlpos"
)

func writeConfig(t *testing.T, yml string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "c.yml")
	if err := os.WriteFile(path, []byte(yml), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestCompileReportsEveryProblemAtOnce: structural problems (a malformed
// email, a bad severity) and the compile step's (a query syntax error, an
// unknown guidance section) come back together, sorted by line, and a
// mistake both would report (an empty query, a duplicate school id) is
// reported once.
func TestCompileReportsEveryProblemAtOnce(t *testing.T) {
	path := writeConfig(t, `schools:
  - id: "1"
    name: Oak School
    leaders: [{ email: not-an-email, roles: [head] }]
  - id: "1"
    name: Elm School
    leaders: [{ email: head@elm.example, roles: [head] }]
rules:
  - id: r1
    query: '(knife OR gun'
    guidance: no-such-section
  - id: r2
    query: ""
    severity: urgent
`)
	_, err := Compile(path, time.Now())
	var errs yamlpos.Errors
	if !errors.As(err, &errs) {
		t.Fatalf("Compile error %v is not yamlpos.Errors", err)
	}
	want := []string{
		path + `:4: schools[0].leaders[0].email: malformed email address "not-an-email"`,
		path + `:5: schools[1].id: duplicate id "1" (also at ` + path + `:2)`,
		path + `:10: rules[0].query: col 14: expected ')' to close '(' at col 1, found end of query`,
		path + `:11: rules[0].guidance: unknown guidance section "no-such-section" (known: first-steps,`,
		path + `:13: rules[1].query: is required`,
		path + `:14: rules[1].severity: unknown value "urgent"`,
	}
	if len(errs) != len(want) {
		t.Errorf("got %d problems, want %d:\n%v", len(errs), len(want), err)
	}
	for i, w := range want {
		if i < len(errs) && !strings.HasPrefix(errs[i].Error(), w) {
			t.Errorf("problem %d:\n%s\nwant it to start\n%s", i, errs[i], w)
		}
	}
	for _, dup := range []string{"empty query", "also schools[0]"} {
		if strings.Contains(err.Error(), dup) {
			t.Errorf("a problem was reported twice (%q):\n%v", dup, err)
		}
	}
}

// TestCompileFillsInGuidance: a rule that names no guidance section gets
// its category's section on the compiled rule and on its findings, and the
// configured contacts reach the pack.
func TestCompileFillsInGuidance(t *testing.T) {
	path := writeConfig(t, `schools:
  - id: oak
    name: Oak Academy
    town: Ashford
    leaders: [{ email: head@oak.example, roles: [head] }]
rules_builtin: false
rules:
  - { id: bully, query: bullied, category: pupil-bullying }
  - { id: other, query: gossip }
  - { id: named, query: complaint, category: complaint, guidance: media-enquiries }
guidance:
  contacts:
    - { name: Kent LADO, phone: "03000 410888", area: Kent, verified: 2026-01-05 }
`)
	p, err := Compile(path, time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range p.Rules {
		got = append(got, r.ID+"="+r.Guidance)
	}
	want := []string{"bully=pupil-bullying", "other=" + p.Pack.DefaultSection("other"), "named=media-enquiries"}
	if !slices.Equal(got, want) {
		t.Errorf("compiled rules' guidance = %q, want %q", got, want)
	}
	fs := p.Matcher.Match("Pupils at Oak Academy Ashford bullied online")
	if len(fs) != 1 || fs[0].Guidance != "pupil-bullying" {
		t.Errorf("findings = %+v, want one carrying pupil-bullying", fs)
	}
	cs := p.Pack.Contacts()
	if i := slices.IndexFunc(cs, func(c guidance.Contact) bool { return c.Name == "Kent LADO" }); i < 0 || !cs[i].Configured {
		t.Errorf("the configured contact is not in the pack: %+v", cs)
	}
	if len(p.Warnings) != 0 {
		t.Errorf("warnings for a contact verified last month: %q", p.Warnings)
	}
}

// TestCompileParsesSchedulesOnce: the plan carries every cron schedule
// parsed, a per_school feed's under each concrete feed's ID.
func TestCompileParsesSchedulesOnce(t *testing.T) {
	path := writeConfig(t, `schools:
  - { id: oak, name: Oak Academy, leaders: [{ email: head@oak.example, roles: [head] }] }
  - { id: elm, name: Elm School, leaders: [{ email: head@elm.example, roles: [head] }] }
mail:
  digest_schedule: "30 6 * * *"
defaults:
  schedule: "@every 20m"
feeds:
  - { id: news, url: "https://news.example/rss" }
  - { id: search, url: "https://search.example/?q={{ .Query }}", per_school: true, schedule: "0 * * * *" }
`)
	p, err := Compile(path, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 3, 2, 5, 10, 0, 0, time.UTC) // a Monday
	for _, tc := range []struct {
		name  string
		sched cron.Schedule
		want  string
	}{
		{"digest", p.DigestSchedule, "Mon 06:30"},
		{"heartbeat", p.HeartbeatSchedule, "Mon 08:00"},
		{"news", feedSchedule(p, "news"), "Mon 05:30"},
		{"search/oak", feedSchedule(p, "search/oak"), "Mon 06:00"},
		{"search/elm", feedSchedule(p, "search/elm"), "Mon 06:00"},
	} {
		if tc.sched == nil {
			t.Errorf("%s: no schedule", tc.name)
		} else if got := tc.sched.Next(at).Format("Mon 15:04"); got != tc.want {
			t.Errorf("%s: next run after Mon 05:10 = %s, want %s", tc.name, got, tc.want)
		}
	}
	if len(p.Feeds) != 3 {
		t.Errorf("%d feeds, want 3", len(p.Feeds))
	}
}

// feedSchedule is the compiled schedule of p's feed id, or nil.
func feedSchedule(p *Plan, id string) cron.Schedule {
	for _, f := range p.Feeds {
		if f.ID == id {
			return f.Schedule
		}
	}
	return nil
}

// FuzzCompile: the compile step runs as a config.Check on configs that
// failed validation too, so it must cope with any config that decodes:
// never panic, and report problems rather than accept a broken config.
func FuzzCompile(f *testing.F) {
	for _, s := range []string{
		"",
		"schools:\n  - { id: \"1\", name: \"\", aliases: [\"!!!\", \"\"], domains: [\"/\"], leaders: [] }\n  - { id: \"1\" }\n",
		"rules:\n  - { id: \"\", query: '(a OR', category: nope, severity: urgent, guidance: nowhere }\n  - { id: r, query: 'a NEAR/x b' }\n",
		"feeds:\n  - { id: a/b, url: '{{ .Nope }}', per_school: true }\nschools: [{ id: s, name: S }]\n",
		"guidance: { dir: /nonexistent, contacts: [{ verified: never }] }\nhttp: { web_config: /nonexistent }\n",
		"mail: { digest_schedule: 'x', heartbeat_schedule: '' }\ndefaults: { schedule: '@every -1s' }\nfeeds: [{ id: f, url: 'https://x.org/' }]\n",
	} {
		f.Add([]byte(s))
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		p := &Plan{}
		cfg, err := config.Parse(filepath.Join(dir, "fuzz.yml"), data, func(c *config.Config) yamlpos.Errors {
			return p.compile(c, time.Now())
		})
		if err == nil && (cfg == nil || p.Matcher == nil || p.Pack == nil || len(p.Rules) != len(cfg.Rules)) {
			t.Fatalf("accepted a config without compiling it: %+v", p)
		}
	})
}
