package config

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/schoolwatch/schoolwatch/yamlpos"
)

// minimal is the smallest valid config; broken cases are built from it.
const minimal = `schools:
  - id: "1"
    name: Oak Primary School
    leaders:
      - { name: H, email: head@example.org, roles: [head] }
`

func TestExampleConfigLoads(t *testing.T) {
	c, err := Load("../schoolwatch.example.yml")
	if err != nil {
		t.Fatalf("example config: %v", err)
	}
	if len(c.Schools) == 0 || len(c.Feeds) == 0 || len(c.Rules) == 0 {
		t.Fatalf("example config has %d schools, %d feeds, %d rules", len(c.Schools), len(c.Feeds), len(c.Rules))
	}
	if c.Location.String() != "Europe/London" {
		t.Errorf("location = %v", c.Location)
	}
}

func TestDefaults(t *testing.T) {
	c, err := Parse("min.yml", []byte(minimal+`feeds:
  - { id: f, url: "https://example.org/feed.xml" }
rules:
  - { id: r, query: knife }
`))
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"timezone", c.Timezone, DefaultTimezone},
		{"store.path", c.Store.Path, DefaultStorePath},
		{"retention", c.Store.Retention.Duration, DefaultRetention},
		{"http.listen", c.HTTP.Listen, DefaultListen},
		{"mail.dir", c.Mail.Dir, DefaultMailDir},
		{"group_wait", c.Mail.GroupWait.Duration, DefaultGroupWait},
		{"mute_for", c.Mail.MuteFor.Duration, 7 * 24 * time.Hour},
		{"public_url", c.HTTP.PublicURL, ""},
		{"retry.initial", c.Mail.Retry.Initial.Duration, DefaultRetryInitial},
		{"retry.max", c.Mail.Retry.Max.Duration, DefaultRetryMax},
		{"feed schedule", c.Feeds[0].Schedule, DefaultSchedule},
		{"feed timeout", c.Feeds[0].Timeout.Duration, DefaultFeedTimeout},
		{"feed max_item_age", c.Feeds[0].MaxItemAge.Duration, DefaultMaxItemAge},
		{"feed quiet_after", c.Feeds[0].QuietAfter.Duration, DefaultQuietAfter},
		{"mail.heartbeat_schedule", c.Mail.HeartbeatSchedule, DefaultHeartbeatSchedule},
		{"defaults.failures_before_notice", c.Defaults.FailuresBeforeNotice, DefaultFailuresBeforeNotice},
		{"feed max_items", c.Feeds[0].MaxItems, DefaultMaxItems},
		{"rule severity", c.Rules[0].Severity, DefaultSeverity},
		{"rule category", c.Rules[0].Category, DefaultCategory},
		{"rule delivery", c.Rules[0].Delivery, DefaultDelivery},
		{"rule notify", strings.Join(c.Rules[0].Notify, ","), "head,dsl"},
		{"polling concurrency", c.Polling.Concurrency, DefaultConcurrency},
		{"polling per_host", c.Polling.PerHost, DefaultPerHost},
		{"polling jitter", c.Polling.Jitter.Duration, DefaultJitter},
		{"polling max_backoff", c.Polling.MaxBackoff.Duration, DefaultMaxBackoff},
	}
	for _, ch := range checks {
		if ch.got != ch.want {
			t.Errorf("%s = %v, want %v", ch.name, ch.got, ch.want)
		}
	}
}

// TestContacts decodes guidance.contacts into guidance.Contact, the one
// contact type, with the keys of the built-in contacts.yml.
func TestContacts(t *testing.T) {
	c, err := Parse("c.yml", []byte(minimal+`guidance:
  contacts:
    - name: Surrey LADO
      phone: "0300 123 1650"
      area: Surrey
      url: https://www.surreyscp.org.uk/lado/
      verified: 2026-03-02
    - { id: report-form, name: Trust report form, web: "https://trust.example.org/report" }
`))
	if err != nil {
		t.Fatal(err)
	}
	cs := c.Guidance.Contacts
	if len(cs) != 2 || cs[0].Name != "Surrey LADO" || cs[0].Verified.Format(time.DateOnly) != "2026-03-02" || cs[0].Verified.Err() != nil {
		t.Fatalf("contacts = %+v", cs)
	}
	if cs[1].ID != "report-form" || cs[1].Web != "https://trust.example.org/report" || !cs[1].Verified.IsZero() || cs[1].Configured {
		t.Errorf("second contact = %+v", cs[1])
	}
	_, err = Parse("c.yml", []byte(minimal+`guidance:
  contacts:
    - { id: a, name: A, local: Your LADO, web: "ftp://x" }
    - { id: a, name: B, Configured: true }
`))
	for _, want := range []string{
		"c.yml:8: guidance.contacts[0].local: unknown key",
		`c.yml:8: guidance.contacts[0].web: bad URL "ftp://x"`,
		`c.yml:9: guidance.contacts[1].id: duplicate id "a" (also at c.yml:8)`,
		"c.yml:9: guidance.contacts[1].Configured: unknown key",
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error\n%v\ndoes not contain\n%s", err, want)
		}
	}
}

func TestFeedOverridesDefaults(t *testing.T) {
	c, err := Parse("f.yml", []byte(minimal+`defaults: { schedule: "@every 5m", timeout: 7s, max_item_age: 1d, max_items: 200 }
feeds:
  - { id: a, url: "https://example.org/a" }
  - { id: b, url: "https://example.org/b", schedule: "*/2 * * * *", timeout: 3s, quiet_after: 0, max_items: 5000 }
`))
	if err != nil {
		t.Fatal(err)
	}
	a, b := c.Feeds[0], c.Feeds[1]
	if a.Schedule != "@every 5m" || a.Timeout.Duration != 7*time.Second || a.MaxItemAge.Duration != 24*time.Hour || a.MaxItems != 200 {
		t.Errorf("feed a did not inherit defaults: %+v", a)
	}
	if b.Schedule != "*/2 * * * *" || b.Timeout.Duration != 3*time.Second || b.QuietAfter.Duration != 0 || !b.QuietAfter.Set || b.MaxItems != 5000 {
		t.Errorf("feed b overrides lost: %+v", b)
	}
	// Load parses each schedule once, the default one too.
	at := time.Date(2026, 3, 2, 5, 59, 0, 0, time.UTC)
	if a.Cron == nil || b.Cron == nil || c.Mail.DigestCron == nil || c.Mail.HeartbeatCron == nil {
		t.Fatalf("schedules not parsed: %+v %+v %+v", a.Cron, b.Cron, c.Mail)
	}
	if got := a.Cron.Next(at).Sub(at); got != 5*time.Minute {
		t.Errorf("feed a polls %v after, want 5m (defaults.schedule)", got)
	}
	if got := b.Cron.Next(at).Format("15:04"); got != "06:00" {
		t.Errorf("feed b next polls at %s, want 06:00", got)
	}
	if got := c.Mail.DigestCron.Next(at).Format("Mon 15:04"); got != "Mon 07:00" {
		t.Errorf("digest next at %s, want Mon 07:00 (the default)", got)
	}
}

func TestEnvAndPasswordFile(t *testing.T) {
	t.Setenv("SW_TEST_PASS", "s3cret$x")
	c, err := Parse("env.yml", []byte(minimal+`mail:
  smtp: { host: mail.example.org, password: "${SW_TEST_PASS}", tls: starttls }
`))
	if err != nil {
		t.Fatal(err)
	}
	if c.Mail.SMTP.Password != "s3cret$x" {
		t.Errorf("password = %q", c.Mail.SMTP.Password)
	}
	if c.Mail.SMTP.Port != 587 {
		t.Errorf("starttls default port = %d, want 587", c.Mail.SMTP.Port)
	}

	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "pw"), []byte("from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfgPath := filepath.Join(dir, "c.yml")
	if err := os.WriteFile(cfgPath, []byte(minimal+"mail:\n  smtp: { host: h, password_file: pw }\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err = Load(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	if c.Mail.SMTP.Password != "from-file" {
		t.Errorf("password from file = %q", c.Mail.SMTP.Password)
	}
}

// TestStoreDriver: sqlite is the default; postgres takes its DSN from
// dsn or from dsn_file.
func TestStoreDriver(t *testing.T) {
	c, err := Parse("c.yml", []byte(minimal))
	if err != nil {
		t.Fatal(err)
	}
	if c.Store.Driver != "sqlite" || c.Store.Postgres() {
		t.Errorf("default driver = %q", c.Store.Driver)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "dsn"), []byte("postgres://sw:secret@db/sw\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfgPath := filepath.Join(dir, "c.yml")
	if err := os.WriteFile(cfgPath, []byte(minimal+"store: { driver: postgres, dsn_file: dsn }\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err = Load(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	if !c.Store.Postgres() || c.Store.DSN != "postgres://sw:secret@db/sw" {
		t.Errorf("store = %+v", c.Store)
	}
}

// TestErrors checks that each broken config reports the problem at its line
// and field.
func TestErrors(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		want []string // substrings of the error, each "file:line: field: ..."
	}{
		{"syntax", "schools: [\n", []string{"bad.yml:"}},
		{"unknown top-level key", minimal + "feedz: []\n", []string{"bad.yml:6: feedz: unknown key"}},
		{"unknown nested key with hint", minimal + "mail:\n  Group_Wait: 2m\n", []string{`bad.yml:7: mail.Group_Wait: unknown key (did you mean "group_wait"?)`}},
		{"bad cron", minimal + "feeds:\n  - id: f\n    url: https://x.org/f\n    schedule: \"61 * * * *\"\n", []string{"bad.yml:9: feeds[0].schedule: invalid schedule"}},
		{"duplicate feed ids", minimal + "feeds:\n  - { id: f, url: \"https://x.org/a\" }\n  - { id: f, url: \"https://x.org/b\" }\n", []string{"bad.yml:8: feeds[1].id: duplicate id \"f\" (also at bad.yml:7)"}},
		{"duplicate school ids", strings.Replace(minimal, "schools:\n", "schools:\n  - { id: \"1\", name: Other, leaders: [{ email: a@b.org, roles: [head] }] }\n", 1), []string{"schools[1].id: duplicate id \"1\""}},
		{"unknown role", strings.Replace(minimal, "[head]", "[headteacher]", 1), []string{"bad.yml:5: schools[0].leaders[0].roles[0]: unknown value \"headteacher\""}},
		{"malformed email", strings.Replace(minimal, "head@example.org", "not-an-email", 1), []string{"bad.yml:5: schools[0].leaders[0].email: malformed email address \"not-an-email\""}},
		{"bad url", minimal + "feeds:\n  - { id: f, url: \"ftp://x.org/f\" }\n", []string{"bad.yml:7: feeds[0].url: bad URL"}},
		{"bad duration", minimal + "mail:\n  group_wait: soon\n", []string{"bad.yml:7: mail.group_wait: invalid duration \"soon\""}},
		{"bad severity and category", minimal + "rules:\n  - id: r\n    query: x\n    severity: urgent\n    category: gossip\n", []string{"bad.yml:9: rules[0].severity: unknown value \"urgent\"", "bad.yml:10: rules[0].category: unknown value \"gossip\""}},
		{"unknown notify role", minimal + "rules:\n  - { id: r, query: x, notify: [bursar] }\n", []string{"rules[0].notify[0]: unknown value \"bursar\""}},
		{"empty query", minimal + "rules:\n  - { id: r, query: \"\" }\n", []string{"bad.yml:7: rules[0].query: is required"}},
		{"polling bounds", minimal + "polling:\n  concurrency: -1\n  per_host: 0\n  max_backoff: 0\n", []string{"bad.yml:7: polling.concurrency: must be between 1 and 1024", "polling.per_host: must be between 1", "bad.yml:9: polling.max_backoff: must be greater than zero"}},
		{"per_host above concurrency", minimal + "polling: { concurrency: 4, per_host: 8, jitter: 0 }\n", []string{"bad.yml:6: polling.per_host: must be between 1 and polling.concurrency (4), got 8"}},
		{"unset env", minimal + "mail:\n  smtp: { host: h, password: \"${SW_SURELY_UNSET_VAR}\" }\n", []string{"mail.smtp.password: environment variable SW_SURELY_UNSET_VAR is not set"}},
		{"missing password file", minimal + "mail:\n  smtp: { host: h, password_file: /nonexistent/pw }\n", []string{"mail.smtp.password_file: cannot read /nonexistent/pw"}},
		{"unknown store driver", minimal + "store: { driver: mysql }\n", []string{"bad.yml:6: store.driver: want sqlite or postgres, got \"mysql\""}},
		{"postgres without dsn", minimal + "store: { driver: postgres }\n", []string{"store.dsn: driver postgres needs dsn or dsn_file"}},
		{"dsn for sqlite", minimal + "store: { dsn: \"postgres://h/db\" }\n", []string{"store.dsn: only for driver: postgres"}},
		{"missing dsn file", minimal + "store: { driver: postgres, dsn_file: /nonexistent/dsn }\n", []string{"store.dsn_file: cannot read /nonexistent/dsn"}},
		{"bad timezone", "timezone: Mars/Olympus\n" + minimal, []string{"bad.yml:1: timezone: unknown time zone"}},
		{"no schools", "feeds: []\n", []string{"schools: at least one school is required"}},
		{"per_school without query", minimal + "feeds:\n  - { id: r, url: \"https://x.org/s\", per_school: true }\n", []string{"feeds[0].url: per_school feed needs {{ .Query }}"}},
		{"bad verified date", minimal + "guidance:\n  contacts:\n    - { name: LADO, verified: last-week }\n", []string{"bad.yml:8: guidance.contacts[0].verified: invalid date"}},
		{"retention shorter than max_item_age", minimal + "store: { retention: 24h }\nfeeds:\n  - { id: f, url: \"https://x.org/f\", max_item_age: 48h }\n", []string{"bad.yml:6: store.retention: 24h0m0s must be longer than feeds[0].max_item_age"}},
		{"password file that never ends", minimal + "mail:\n  smtp: { host: h, password_file: /dev/zero }\n", []string{"mail.smtp.password_file: cannot read /dev/zero: it is a device, not a regular file"}},
		{"bad heartbeat schedule", minimal + "mail:\n  heartbeat_schedule: \"weekly-ish\"\n", []string{"bad.yml:7: mail.heartbeat_schedule: invalid schedule"}},
		{"negative failures_before_notice", minimal + "defaults:\n  failures_before_notice: -1\n", []string{"defaults.failures_before_notice: must be between 1 and 1000, got -1"}},
		{"max_items out of range", minimal + "defaults:\n  max_items: -1\nfeeds:\n  - { id: f, url: \"https://x.org/f\", max_items: 1000000 }\n", []string{"bad.yml:7: defaults.max_items: must be between 1 and 100000, got -1", "bad.yml:9: feeds[0].max_items: must be between 1 and 100000, got 1000000"}},
		{"relative public_url", minimal + "http:\n  public_url: /sw\n", []string{"bad.yml:7: http.public_url: want an absolute http(s) URL"}},
		{"public_url with another scheme", minimal + "http:\n  public_url: \"javascript:alert(1)\"\n", []string{"bad.yml:7: http.public_url: want an absolute http(s) URL"}},
		{"public_url with credentials", minimal + "http:\n  public_url: https://u:p@sw.example.org/\n", []string{"bad.yml:7: http.public_url"}},
		{"zero mute_for", minimal + "mail:\n  mute_for: 0s\n", []string{"bad.yml:7: mail.mute_for: must be greater than zero"}},
		{"many problems at once", minimal + "mail:\n  group_wait: nope\n  from: nobody\nfeeds:\n  - { id: f, url: \"gopher://x\" }\n", []string{"mail.group_wait", "mail.from", "feeds[0].url"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("bad.yml", []byte(tt.yaml))
			if err == nil {
				t.Fatal("config accepted")
			}
			var errs yamlpos.Errors
			if !errors.As(err, &errs) {
				t.Fatalf("error is %T, want Errors", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error\n%s\ndoes not contain\n%s", err, w)
				}
			}
			for _, e := range errs {
				if !strings.HasPrefix(e.Error(), "bad.yml:") {
					t.Errorf("error %q does not start with the file name", e)
				}
			}
		})
	}
}

func TestFeedURLTemplate(t *testing.T) {
	got, err := FeedURL("https://www.reddit.com/search.rss?q={{ .Query }}&sort=new", School{Name: "St Mary's C of E"})
	if err != nil {
		t.Fatal(err)
	}
	if want := "https://www.reddit.com/search.rss?q=St+Mary%27s+C+of+E&sort=new"; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}

func TestDurationDays(t *testing.T) {
	for in, want := range map[string]time.Duration{"7d": 7 * 24 * time.Hour, "1.5d": 36 * time.Hour, "2w": 14 * 24 * time.Hour, "90s": 90 * time.Second, "0": 0} {
		var d Duration
		d.UnmarshalText([]byte(in))
		if d.err != nil || d.Duration != want {
			t.Errorf("%s: got %v, %v", in, d.Duration, d.err)
		}
	}
}

// TestChecks: a Check runs in the same pass as validation, even on a config
// with problems; its problems are located by field and sorted in with
// validation's, less those on a field validation already reported; it does
// not run when the YAML cannot be decoded.
func TestChecks(t *testing.T) {
	ran := 0
	check := func(c *Config) yamlpos.Errors {
		ran++
		return yamlpos.Errors{
			{Field: "rules[0].query", Msg: "col 1: compiler says so"},         // validation said "is required"
			{Field: "feeds", Msg: "cannot expand"},                            // validation spoke about feeds[0].url
			{Field: "rules[0].guidance", Msg: "unknown guidance section"},     // kept
			{Field: "schools[0].name", Msg: "has no letters or digits"},       // kept, earlier line
			{File: "pack/a.md", Line: 3, Field: "id", Msg: "already located"}, // kept as is
		}
	}
	_, err := Parse("c.yml", []byte(minimal+`feeds:
  - { id: f, url: "gopher://x" }
rules:
  - id: r
    query: ""
    guidance: nowhere
`), check)
	if ran != 1 {
		t.Fatalf("check ran %d times, want once", ran)
	}
	var got []string
	var errs yamlpos.Errors
	if !errors.As(err, &errs) {
		t.Fatalf("error %v is not yamlpos.Errors", err)
	}
	for _, e := range errs {
		got = append(got, e.Error())
	}
	want := []string{ // by file, then line
		"c.yml:3: schools[0].name: has no letters or digits",
		`c.yml:7: feeds[0].url: bad URL "gopher://x": scheme must be one of http, https, file`,
		"c.yml:10: rules[0].query: is required",
		"c.yml:11: rules[0].guidance: unknown guidance section",
		"pack/a.md:3: id: already located",
	}
	if !slices.Equal(got, want) {
		t.Errorf("errors:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	ran = 0
	if _, err := Parse("c.yml", []byte("schools: [\n"), check); err == nil || ran != 0 {
		t.Errorf("broken YAML: err %v, check ran %d times, want an error and no run", err, ran)
	}
	if _, err := Parse("c.yml", []byte(minimal), func(*Config) yamlpos.Errors { return nil }); err != nil {
		t.Errorf("a check with nothing to say failed a good config: %v", err)
	}
}

// polling.requests_per_minute defaults to Reddit's budget, and a bad site
// or rate is reported at its field.
func TestRequestsPerMinute(t *testing.T) {
	c, err := Parse("c.yml", []byte("mail: { fallback: la@example.org }\nschools: [{ id: \"1\", name: Oak School }]\n"))
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Polling.RequestsPerMinute["reddit.com"]; got != 1 {
		t.Errorf("default reddit.com rate = %v, want 1 a minute", got)
	}
	_, err = Parse("c.yml", []byte("mail: { fallback: la@example.org }\nschools: [{ id: \"1\", name: Oak School }]\npolling:\n  requests_per_minute: { \"https://Reddit.com/\": 0 }\n"))
	if err == nil || !strings.Contains(err.Error(), "polling.requests_per_minute") || !strings.Contains(err.Error(), "more than 0") || !strings.Contains(err.Error(), "want a site") {
		t.Errorf("bad rate: %v", err)
	}
}
