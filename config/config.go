package config

import (
	"slices"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/schoolwatch/schoolwatch/guidance"
	"github.com/schoolwatch/schoolwatch/rules"
)

// Config is the whole schoolwatch configuration.
type Config struct {
	Timezone string       `yaml:"timezone"`
	Store    Store        `yaml:"store"`
	HTTP     HTTP         `yaml:"http"`
	Mail     Mail         `yaml:"mail"`
	Guidance Guidance     `yaml:"guidance"`
	Defaults FeedDefaults `yaml:"defaults"`
	Polling  Polling      `yaml:"polling"`
	Roles    []string     `yaml:"roles"` // extra leader roles on top of KnownRoles
	Schools  []School     `yaml:"schools"`
	// SchoolsFile names a YAML file with a top-level schools: list (such
	// as `schoolwatch import gias` writes), relative to this file. Load
	// appends its schools to Schools, after the inline ones, and every
	// problem in them is reported at that file's line.
	SchoolsFile string `yaml:"schools_file"`
	// Observers are copied on findings for every school, filtered by
	// category and severity (a local authority's safeguarding team).
	Observers []Observer `yaml:"observers"`
	Feeds     []Feed     `yaml:"feeds"`
	Rules     []Rule     `yaml:"rules"`
	// RulesBuiltin, when false, turns the built-in starter rule pack off;
	// unset or true, Rules are merged over it (see mergeBuiltin).
	RulesBuiltin *bool `yaml:"rules_builtin"`
	// ModelBuiltin, when false, turns the built-in linear model off: no
	// "possibly" findings on posts the rules miss.
	ModelBuiltin *bool `yaml:"model_builtin"`
	// Terms are named term lists (@name in queries), over the pack's.
	Terms map[string][]string `yaml:"terms"`
	// TermLists are the effective term lists: the pack's, replaced or
	// extended by Terms.
	TermLists rules.TermLists `yaml:"-"`
	// PackVersion is the built-in rule pack's version ("" when turned off).
	PackVersion string         `yaml:"-"`
	Location    *time.Location `yaml:"-"` // Timezone, loaded

	// File is the path the config was loaded from ("" for an in-memory one).
	File string `yaml:"-"`
	pos  *positions
	// schools says where the schools of SchoolsFile came from.
	schools schoolsSource
	// schoolIndex maps a school ID to its index in Schools, for School.
	schoolIndex map[string]int
}

// Store configures persistence.
type Store struct {
	Path      string   `yaml:"path"`
	Retention Duration `yaml:"retention"`
	// Driver is "sqlite" (the default: the file at Path, one process) or
	// "postgres" (the database at DSN, shared by replicas; Path is unused).
	Driver string `yaml:"driver"`
	// DSN is the Postgres connection string (postgres://... or libpq
	// keywords); DSNFile names a file holding it instead, read like
	// mail.smtp.password_file, for when it carries a password.
	DSN     string `yaml:"dsn"`
	DSNFile string `yaml:"dsn_file"`
}

// Postgres reports whether the store is a Postgres database.
func (s Store) Postgres() bool { return s.Driver == "postgres" }

// HTTP configures the metrics and health endpoint.
type HTTP struct {
	Listen string `yaml:"listen"` // "" or "off" disables the endpoint
	// WebConfig is an optional exporter-toolkit web config file (TLS, basic auth).
	WebConfig string `yaml:"web_config"`
	// PublicURL is the absolute http(s) address at which the authority's
	// proxy exposes this server. When set, alert mails carry signed action
	// links (acknowledge, not relevant, mute) to /act under it.
	PublicURL string `yaml:"public_url"`
	// LinkKeyFile optionally holds the key that signs action links;
	// without it a random key is generated once and kept in the store.
	LinkKeyFile string `yaml:"link_key_file"`
}

// Mail configures delivery.
type Mail struct {
	From           string   `yaml:"from"`
	SMTP           *SMTP    `yaml:"smtp"` // nil: write .eml files to Dir
	Dir            string   `yaml:"dir"`
	DigestSchedule string   `yaml:"digest_schedule"`
	GroupWait      Duration `yaml:"group_wait"`
	Retry          Retry    `yaml:"retry"`
	Fallback       string   `yaml:"fallback"`
	// Operator receives feed-health notices; defaults to Fallback.
	Operator string `yaml:"operator"`
	// HeartbeatSchedule is the cron schedule of the weekly "all quiet"
	// mail to leaders; default "0 8 * * 1".
	HeartbeatSchedule string `yaml:"heartbeat_schedule"`
	// SubjectPrefix starts every subject; default "[schoolwatch]".
	SubjectPrefix string `yaml:"subject_prefix"`
	// MuteFor is how long "Mute this thread" suppresses alerts about a
	// post for its school; default 168h (7 days).
	MuteFor Duration `yaml:"mute_for"`

	// DigestCron and HeartbeatCron are DigestSchedule and
	// HeartbeatSchedule, parsed once by Load.
	DigestCron    cron.Schedule `yaml:"-"`
	HeartbeatCron cron.Schedule `yaml:"-"`
}

// SMTP configures an SMTP relay.
type SMTP struct {
	Host         string `yaml:"host"`
	Port         int    `yaml:"port"`
	Username     string `yaml:"username"`
	Password     string `yaml:"password"`
	PasswordFile string `yaml:"password_file"`
	TLS          string `yaml:"tls"` // none | starttls | tls
	// Timeout bounds one connection and send; default 30s.
	Timeout Duration `yaml:"timeout"`
	// InsecureSkipVerify disables certificate checks (test relays only).
	InsecureSkipVerify bool `yaml:"insecure_skip_verify"`
}

// Retry is the outbox backoff on temporary delivery failures.
type Retry struct {
	Initial Duration `yaml:"initial"`
	Max     Duration `yaml:"max"`
}

// Guidance configures the advice pack.
type Guidance struct {
	Dir string `yaml:"dir"`
	// Contacts are local sources of help shown in every alert, written with
	// the keys of the built-in pack's contacts.yml (less "local").
	Contacts []guidance.Contact `yaml:"contacts"`
}

// Polling bounds how hard schoolwatch polls, across all feeds.
type Polling struct {
	// Concurrency bounds feed fetches in flight, and separately the fetched
	// documents being parsed and recorded.
	Concurrency int `yaml:"concurrency"`
	// PerHost bounds fetches in flight to one site (registrable domain).
	PerHost int `yaml:"per_host"`
	// Jitter bounds the stable per-feed delay after each scheduled time
	// (also at most a quarter of the feed's interval); 0 disables it.
	Jitter Duration `yaml:"jitter"`
	// MaxBackoff caps the wait after consecutive failures or a Retry-After.
	MaxBackoff Duration `yaml:"max_backoff"`
	// RequestsPerMinute caps the requests to a site (registrable domain,
	// such as reddit.com), beside PerHost's bound on requests in flight.
	// Unset: DefaultRequestsPerMinute; a site not listed is not capped.
	RequestsPerMinute map[string]float64 `yaml:"requests_per_minute"`
}

// FeedDefaults apply to every feed that does not override them.
type FeedDefaults struct {
	Schedule   string   `yaml:"schedule"`
	Timeout    Duration `yaml:"timeout"`
	MaxItemAge Duration `yaml:"max_item_age"`
	QuietAfter Duration `yaml:"quiet_after"`
	UserAgent  string   `yaml:"user_agent"`
	// FailuresBeforeNotice consecutive failed polls make a feed failing
	// and send the operator a notice; default 3.
	FailuresBeforeNotice int `yaml:"failures_before_notice"`
	// MaxItems caps the entries read from one document (the first ones, a
	// feed's newest); the rest are not parsed. Default 1,000.
	MaxItems int `yaml:"max_items"`
}

// School is one watched school.
type School struct {
	ID   string `yaml:"id"`
	Name string `yaml:"name"`
	// ShortName is what people call the school ("St Mary's"); per-school
	// feed templates use it as {{ .Short }} (the name when unset), and the
	// matcher treats it as an alias.
	ShortName string   `yaml:"short_name"`
	Town      string   `yaml:"town"`
	Aliases   []string `yaml:"aliases"`
	Hashtags  []string `yaml:"hashtags"`
	Domains   []string `yaml:"domains"`
	Context   []string `yaml:"context"`
	Leaders   []Leader `yaml:"leaders"`
	// Paused stops a school's alerts without deleting it: it is left out
	// of matching and its per-school feeds are not polled.
	Paused bool `yaml:"paused"`
}

// Observer is an address copied on findings for every school whose
// category and severity it asks for; an empty list asks for all.
type Observer struct {
	Address    string   `yaml:"address"`
	Categories []string `yaml:"categories"`
	Severities []string `yaml:"severities"`
}

// Wants reports whether o asks for findings of category and severity.
func (o Observer) Wants(category, severity string) bool {
	return (len(o.Categories) == 0 || slices.Contains(o.Categories, category)) &&
		(len(o.Severities) == 0 || slices.Contains(o.Severities, severity))
}

// Leader is a person who receives alerts for a school.
type Leader struct {
	Name  string   `yaml:"name"`
	Email string   `yaml:"email"`
	Roles []string `yaml:"roles"`
	// DigestOnly: every finding for this leader waits for the daily digest.
	DigestOnly bool `yaml:"digest_only"`
	// Heartbeat: nil means on (the weekly "all quiet" mail).
	Heartbeat *bool `yaml:"heartbeat"`
	// Mentions is how often the leader gets the digest of posts that name
	// the school and raise nothing else: MentionsDaily, MentionsWeekly or
	// MentionsOff. Unset: daily for a head, off for everyone else.
	Mentions string `yaml:"mentions"`
}

// The values of a leader's mentions.
const (
	MentionsDaily  = "daily"
	MentionsWeekly = "weekly"
	MentionsOff    = "off"
)

// MentionsOf is l's mentions setting with its default applied.
func MentionsOf(l Leader) string {
	if l.Mentions != "" {
		return l.Mentions
	}
	if slices.Contains(l.Roles, "head") {
		return MentionsDaily
	}
	return MentionsOff
}

// Feed is one polled source.
type Feed struct {
	ID   string `yaml:"id"`
	Name string `yaml:"name"`
	// Type is how the feed is read: FeedTypeRSS (the default) polls an
	// RSS, Atom or JSON Feed document on Schedule; FeedTypeJetstream
	// follows a Bluesky Jetstream WebSocket (ws:// or wss:// URL) for as
	// long as the daemon runs.
	Type       string   `yaml:"type"`
	URL        string   `yaml:"url"`
	Schedule   string   `yaml:"schedule"`
	PerSchool  bool     `yaml:"per_school"`
	Timeout    Duration `yaml:"timeout"`
	MaxItemAge Duration `yaml:"max_item_age"`
	QuietAfter Duration `yaml:"quiet_after"`
	// MaxItems overrides defaults.max_items for this feed.
	MaxItems int `yaml:"max_items"`
	// Cron is Schedule (or defaults.schedule), parsed once by Load.
	Cron cron.Schedule `yaml:"-"`
}

// Feed types.
const (
	FeedTypeRSS       = "rss"       // RSS, Atom or JSON Feed, polled on a schedule
	FeedTypeJetstream = "jetstream" // a Bluesky Jetstream subscription, followed continuously
)

// FeedTypes are every feed type.
var FeedTypes = []string{FeedTypeRSS, FeedTypeJetstream}

// Rule is one keyword rule. Category, Severity and Delivery hold values of
// rules.Category, rules.Severity and rules.Delivery once Load succeeds.
type Rule struct {
	ID       string   `yaml:"id"`
	Query    string   `yaml:"query"`
	Category string   `yaml:"category"`
	Severity string   `yaml:"severity"`
	Guidance string   `yaml:"guidance"`
	Notify   []string `yaml:"notify"`
	Delivery string   `yaml:"delivery"`
	// Source says where the rule comes from: SourceConfig, SourceBuiltin
	// or SourceOverride.
	Source string `yaml:"-"`
}

// Where a rule comes from, for `schoolwatch rules`.
const (
	SourceConfig   = "config"
	SourceBuiltin  = "built-in"
	SourceOverride = "config, replaces built-in"
)

// KnownRoles are the leader roles every config may use.
var KnownRoles = []string{"head", "deputy", "dsl", "deputy_dsl", "chair", "governor", "business_manager", "office", "comms", "it", "hr", "trust"}

// TLS modes for SMTP.
var TLSModes = []string{"none", "starttls", "tls"}

// HasRole reports whether the leader has any of roles.
func (l Leader) HasRole(roles []string) bool {
	for _, r := range l.Roles {
		for _, want := range roles {
			if r == want {
				return true
			}
		}
	}
	return false
}

// School returns the school with id. A loaded config finds it through an
// index (the router asks once per finding, with thousands of schools); a
// config built in memory, or edited after loading, is searched.
func (c *Config) School(id string) (*School, bool) {
	if i, ok := c.schoolIndex[id]; ok && i < len(c.Schools) && c.Schools[i].ID == id {
		return &c.Schools[i], true
	}
	for i := range c.Schools {
		if c.Schools[i].ID == id {
			return &c.Schools[i], true
		}
	}
	return nil, false
}

// Rule returns the rule with id.
func (c *Config) Rule(id string) (*Rule, bool) {
	for i := range c.Rules {
		if c.Rules[i].ID == id {
			return &c.Rules[i], true
		}
	}
	return nil, false
}
