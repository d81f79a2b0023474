package config

import (
	"fmt"
	"maps"
	"net"
	"net/mail"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/schoolwatch/schoolwatch/rules"
	"github.com/schoolwatch/schoolwatch/yamlpos"
)

// CronParser is the schedule syntax: five fields, or @every/@daily descriptors.
var CronParser = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

type validator struct {
	c    *Config
	errs yamlpos.Errors
}

func (v *validator) errorf(field, format string, args ...any) {
	v.errs = append(v.errs, v.c.Errorf(field, format, args...))
}

func (v *validator) present(field string) bool {
	file, _, shown := v.c.where(field)
	if file == v.c.schools.path && file != "" {
		return v.c.schools.pos.has(shown)
	}
	return v.c.pos.has(field)
}

// sampleSchool has every field a per_school feed template may use.
var sampleSchool = School{ID: "1", Name: "x", ShortName: "x", Town: "x", Domains: []string{"x.example"}, Hashtags: []string{"x"}}

func (v *validator) duration(field string, d Duration, positive bool) {
	if !v.present(field) {
		return
	}
	if d.err != nil {
		v.errorf(field, "%v", d.err)
	} else if positive && d.Duration <= 0 {
		v.errorf(field, "must be greater than zero")
	}
}

// schedule parses a cron schedule, the one time it is parsed.
func (v *validator) schedule(field, spec string) cron.Schedule {
	s, err := CronParser.Parse(spec)
	if err != nil {
		v.errorf(field, "invalid schedule %q: %v", spec, err)
	}
	return s
}

func (v *validator) email(field, addr string, required bool) {
	if addr == "" {
		if required {
			v.errorf(field, "is required")
		}
		return
	}
	a, err := mail.ParseAddress(addr)
	if err != nil || !strings.Contains(a.Address, "@") || strings.ContainsAny(addr, "\r\n") {
		v.errorf(field, "malformed email address %q", addr)
	}
}

func (v *validator) oneOf(field, val string, allowed []string) {
	if !slices.Contains(allowed, val) {
		v.errorf(field, "unknown value %q (allowed: %s)", val, strings.Join(allowed, ", "))
	}
}

func (v *validator) url(field, raw string, schemes ...string) {
	u, err := url.Parse(raw)
	if err != nil {
		v.errorf(field, "bad URL %q: %v", raw, err)
		return
	}
	if !slices.Contains(schemes, u.Scheme) {
		v.errorf(field, "bad URL %q: scheme must be one of %s", raw, strings.Join(schemes, ", "))
		return
	}
	if u.Scheme != "file" && u.Host == "" {
		v.errorf(field, "bad URL %q: no host", raw)
	}
	if u.Scheme == "file" && u.Path == "" && u.Opaque == "" {
		v.errorf(field, "bad URL %q: no path", raw)
	}
}

// MaxMaxItems bounds max_items: a document's entries are held in memory
// while it is parsed.
const MaxMaxItems = 100000

func (v *validator) maxItems(field string, n int) {
	if n < 1 || n > MaxMaxItems {
		v.errorf(field, "must be between 1 and %d, got %d", MaxMaxItems, n)
	}
}

func (v *validator) id(field, id string, seen map[string]string) {
	switch {
	case id == "":
		v.errorf(field, "is required")
	case strings.ContainsAny(id, "/ \t\r\n"):
		v.errorf(field, "%q must not contain '/' or spaces", id)
	case seen[id] != "":
		v.errorf(field, "duplicate id %q (also at %s)", id, v.c.Where(seen[id]))
	default:
		seen[id] = field
	}
}

// validate checks the defaulted config and returns every problem.
func (c *Config) validate() yamlpos.Errors {
	v := &validator{c: c}
	loc, err := time.LoadLocation(c.Timezone)
	if err != nil {
		v.errorf("timezone", "unknown time zone %q", c.Timezone)
		loc = time.UTC
	}
	c.Location = loc

	v.duration("store.retention", c.Store.Retention, true)
	switch c.Store.Driver {
	case "", "sqlite":
		if c.Store.DSN != "" || c.Store.DSNFile != "" {
			v.errorf("store.dsn", "only for driver: postgres (the driver is sqlite)")
		}
	case "postgres":
		if c.Store.DSN == "" && c.Store.DSNFile == "" {
			v.errorf("store.dsn", "driver postgres needs dsn or dsn_file")
		}
	default:
		v.errorf("store.driver", "want sqlite or postgres, got %q", c.Store.Driver)
	}
	if c.HTTP.Listen != "off" {
		if _, port, err := net.SplitHostPort(c.HTTP.Listen); err != nil {
			v.errorf("http.listen", "want host:port, got %q", c.HTTP.Listen)
		} else if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
			v.errorf("http.listen", "bad port %q", port)
		}
	}

	if c.HTTP.PublicURL != "" {
		u, err := url.Parse(c.HTTP.PublicURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
			v.errorf("http.public_url", "want an absolute http(s) URL without query or credentials, got %q", c.HTTP.PublicURL)
		}
	}

	m := &c.Mail
	v.email("mail.from", m.From, true)
	v.email("mail.fallback", m.Fallback, false)
	if v.present("mail.operator") {
		v.email("mail.operator", m.Operator, false)
	}
	m.DigestCron = v.schedule("mail.digest_schedule", m.DigestSchedule)
	m.HeartbeatCron = v.schedule("mail.heartbeat_schedule", m.HeartbeatSchedule)
	v.duration("mail.group_wait", m.GroupWait, false)
	v.duration("mail.mute_for", m.MuteFor, true)
	v.duration("mail.retry.initial", m.Retry.Initial, true)
	v.duration("mail.retry.max", m.Retry.Max, true)
	if m.Retry.Initial.err == nil && m.Retry.Max.err == nil && m.Retry.Max.Duration < m.Retry.Initial.Duration {
		v.errorf("mail.retry.max", "must not be less than mail.retry.initial")
	}
	if s := m.SMTP; s != nil {
		if s.Host == "" {
			v.errorf("mail.smtp.host", "is required when mail.smtp is set (omit mail.smtp to write .eml files)")
		}
		if s.Port < 1 || s.Port > 65535 {
			v.errorf("mail.smtp.port", "bad port %d", s.Port)
		}
		if s.TLS != "" {
			v.oneOf("mail.smtp.tls", s.TLS, TLSModes)
		}
		v.duration("mail.smtp.timeout", s.Timeout, true)
	}

	seen := map[string]string{}
	for i, ct := range c.Guidance.Contacts {
		p := fmt.Sprintf("guidance.contacts[%d]", i)
		if ct.ID != "" {
			v.id(p+".id", ct.ID, seen)
		}
		if ct.Name == "" {
			v.errorf(p+".name", "is required")
		}
		v.email(p+".email", ct.Email, false)
		if ct.URL != "" {
			v.url(p+".url", ct.URL, "http", "https")
		}
		if ct.Web != "" {
			v.url(p+".web", ct.Web, "http", "https")
		}
		if err := ct.Verified.Err(); err != nil {
			v.errorf(p+".verified", "%v", err)
		}
	}

	d := &c.Defaults
	defaultCron := v.schedule("defaults.schedule", d.Schedule)
	v.duration("defaults.timeout", d.Timeout, true)
	v.duration("defaults.max_item_age", d.MaxItemAge, true)
	v.duration("defaults.quiet_after", d.QuietAfter, false)
	if d.FailuresBeforeNotice < 1 || d.FailuresBeforeNotice > 1000 {
		v.errorf("defaults.failures_before_notice", "must be between 1 and 1000, got %d", d.FailuresBeforeNotice)
	}
	v.maxItems("defaults.max_items", d.MaxItems)
	if pl := c.Polling; pl.Concurrency < 1 || pl.Concurrency > 1024 {
		v.errorf("polling.concurrency", "must be between 1 and 1024, got %d", pl.Concurrency)
	}
	if pl := c.Polling; pl.PerHost < 1 || pl.PerHost > c.Polling.Concurrency {
		v.errorf("polling.per_host", "must be between 1 and polling.concurrency (%d), got %d", c.Polling.Concurrency, pl.PerHost)
	}
	for _, site := range slices.Sorted(maps.Keys(c.Polling.RequestsPerMinute)) {
		field := "polling.requests_per_minute." + site
		if n := c.Polling.RequestsPerMinute[site]; n <= 0 || n > 6000 {
			v.errorf(field, "must be more than 0 and at most 6000 requests a minute, got %v", n)
		}
		if site == "" || strings.ContainsAny(site, "/:@ ") || site != strings.ToLower(site) {
			v.errorf(field, "want a site such as reddit.com (lower case, no scheme or path), got %q", site)
		}
	}
	v.duration("polling.jitter", c.Polling.Jitter, false)
	v.duration("polling.max_backoff", c.Polling.MaxBackoff, true)

	roles := append(slices.Clone(KnownRoles), c.Roles...)
	if len(c.Schools) == 0 {
		if c.SchoolsFile != "" {
			v.errorf("schools_file", "has no schools, and there are none inline: at least one school is required")
		} else {
			v.errorf("schools", "at least one school is required")
		}
	}
	seen = map[string]string{}
	for i, s := range c.Schools {
		p := fmt.Sprintf("schools[%d]", i)
		v.id(p+".id", s.ID, seen)
		if strings.TrimSpace(s.Name) == "" {
			v.errorf(p+".name", "is required")
		}
		if s.ShortName != "" && strings.TrimSpace(s.ShortName) == "" {
			v.errorf(p+".short_name", "is blank")
		}
		for j, h := range s.Hashtags {
			if strings.TrimLeft(h, "#") == "" {
				v.errorf(fmt.Sprintf("%s.hashtags[%d]", p, j), "empty hashtag")
			}
		}
		for j, dom := range s.Domains {
			if strings.ContainsAny(dom, "/ :") || !strings.Contains(dom, ".") {
				v.errorf(fmt.Sprintf("%s.domains[%d]", p, j), "want a bare domain like school.kent.sch.uk, got %q", dom)
			}
		}
		if len(s.Leaders) == 0 && m.Fallback == "" {
			v.errorf(p+".leaders", "school has no leaders and mail.fallback is not set: its alerts would reach nobody")
		}
		for j, l := range s.Leaders {
			lp := fmt.Sprintf("%s.leaders[%d]", p, j)
			v.email(lp+".email", l.Email, true)
			if len(l.Roles) == 0 {
				v.errorf(lp+".roles", "at least one role is required")
			}
			for k, r := range l.Roles {
				v.oneOf(fmt.Sprintf("%s.roles[%d]", lp, k), r, roles)
			}
			if l.Mentions != "" {
				v.oneOf(lp+".mentions", l.Mentions, []string{MentionsDaily, MentionsWeekly, MentionsOff})
			}
		}
	}

	v.observers()

	seen = map[string]string{}
	retentionReported := false
	for i := range c.Feeds {
		f := &c.Feeds[i]
		p := fmt.Sprintf("feeds[%d]", i)
		v.id(p+".id", f.ID, seen)
		v.oneOf(p+".type", f.Type, FeedTypes)
		switch {
		case f.URL == "":
			v.errorf(p+".url", "is required")
		case f.Type == FeedTypeJetstream:
			// One subscription sees every public post; a per-school copy
			// would only multiply it.
			if f.PerSchool {
				v.errorf(p+".per_school", "a jetstream feed carries every public post: it cannot be per_school")
			}
			v.url(p+".url", f.URL, "ws", "wss")
		case f.PerSchool:
			if !strings.Contains(f.URL, "{{") {
				v.errorf(p+".url", "per_school feed needs {{ .Query }} in its URL")
			} else if ft, err := ParseFeedTemplate(f.URL); err != nil {
				v.errorf(p+".url", "%v", err)
			} else if _, err := ft.URLs(sampleSchool); err != nil {
				v.errorf(p+".url", "%v", err)
			}
		default:
			v.url(p+".url", f.URL, "http", "https", "file")
		}
		f.Cron = defaultCron
		if v.present(p + ".schedule") {
			f.Cron = v.schedule(p+".schedule", f.Schedule)
		}
		v.duration(p+".timeout", f.Timeout, true)
		v.duration(p+".max_item_age", f.MaxItemAge, true)
		v.duration(p+".quiet_after", f.QuietAfter, false)
		if v.present(p + ".max_items") {
			v.maxItems(p+".max_items", f.MaxItems)
		}
		// A purged item that is still in its feed would look new again;
		// only items younger than max_item_age can alert, so retention
		// must outlast it.
		if !retentionReported && c.Store.Retention.err == nil && f.MaxItemAge.err == nil && c.Store.Retention.Duration <= f.MaxItemAge.Duration {
			retentionReported = true
			v.errorf("store.retention", "%v must be longer than feeds[%d].max_item_age (%v), or purged items could alert again", c.Store.Retention.Duration, i, f.MaxItemAge.Duration)
		}
	}

	seen = map[string]string{}
	for i, r := range c.Rules {
		p := fmt.Sprintf("rules[%d]", i)
		v.id(p+".id", r.ID, seen)
		if strings.TrimSpace(r.Query) == "" {
			v.errorf(p+".query", "is required")
		}
		v.oneOf(p+".category", r.Category, rules.Names(rules.Categories))
		v.oneOf(p+".severity", r.Severity, rules.Names(rules.Severities))
		v.oneOf(p+".delivery", r.Delivery, rules.Names(rules.Deliveries))
		for k, n := range r.Notify {
			v.oneOf(fmt.Sprintf("%s.notify[%d]", p, k), n, roles)
		}
	}
	return v.errs
}

// observers checks the observers: list.
func (v *validator) observers() {
	for i, o := range v.c.Observers {
		p := fmt.Sprintf("observers[%d]", i)
		v.email(p+".address", o.Address, true)
		for j, cat := range o.Categories {
			v.oneOf(fmt.Sprintf("%s.categories[%d]", p, j), cat, rules.Names(rules.Categories))
		}
		for j, sev := range o.Severities {
			v.oneOf(fmt.Sprintf("%s.severities[%d]", p, j), sev, rules.Names(rules.Severities))
		}
	}
}
