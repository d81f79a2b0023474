package config

import (
	"maps"
	"time"

	"github.com/schoolwatch/schoolwatch/rules"
)

// Defaults, in one place. The README's configuration table lists them.
const (
	DefaultTimezone       = "Europe/London"
	DefaultStorePath      = "var/schoolwatch.db"
	DefaultRetention      = 90 * 24 * time.Hour
	DefaultListen         = "127.0.0.1:9464"
	DefaultFrom           = "schoolwatch <schoolwatch@localhost>"
	DefaultMailDir        = "var/mail"
	DefaultDigestSchedule = "0 7 * * 1-5"
	DefaultGroupWait      = 2 * time.Minute
	DefaultMuteFor        = 7 * 24 * time.Hour
	DefaultRetryInitial   = 5 * time.Second
	DefaultRetryMax       = 10 * time.Minute
	DefaultSMTPTimeout    = 30 * time.Second
	DefaultSchedule       = "@every 15m"
	DefaultFeedTimeout    = 20 * time.Second
	DefaultMaxItemAge     = 72 * time.Hour
	DefaultQuietAfter     = 7 * 24 * time.Hour
	DefaultUserAgent      = "schoolwatch (+https://github.com/schoolwatch/schoolwatch)"
	DefaultConcurrency    = 16
	DefaultPerHost        = 2
	DefaultJitter         = 5 * time.Minute
	DefaultMaxBackoff     = 6 * time.Hour
	DefaultSubjectPrefix  = "[schoolwatch]"
	DefaultSeverity       = string(rules.Normal)
	DefaultCategory       = string(rules.OtherCategory)
	DefaultDelivery       = string(rules.Immediate)
)

// DefaultMaxItems caps the entries read from one feed document: a 10 MiB
// document of empty entries would otherwise cost gigabytes to parse.
const DefaultMaxItems = 1000

// DefaultRequestsPerMinute are the sites whose rate limits schoolwatch
// keeps to unless polling.requests_per_minute says otherwise: Reddit's RSS
// has allowed about one request a minute since mid-2026.
var DefaultRequestsPerMinute = map[string]float64{"reddit.com": 1}

// Feed-health defaults (issue 9).
const (
	// DefaultHeartbeatSchedule: Monday 08:00, the weekly "all quiet" mail.
	DefaultHeartbeatSchedule = "0 8 * * 1"
	// DefaultFailuresBeforeNotice consecutive failed polls make a feed failing.
	DefaultFailuresBeforeNotice = 3
)

// DefaultNotify is the roles a rule notifies when it names none.
var DefaultNotify = []string{"head", "dsl"}

func setDuration(d *Duration, v time.Duration) {
	if !d.Set {
		*d = D(v)
	}
}

func setString(s *string, v string) {
	if *s == "" {
		*s = v
	}
}

func (c *Config) applyDefaults() {
	setString(&c.Timezone, DefaultTimezone)
	setString(&c.Store.Path, DefaultStorePath)
	setString(&c.Store.Driver, "sqlite")
	setDuration(&c.Store.Retention, DefaultRetention)
	setString(&c.HTTP.Listen, DefaultListen)
	m := &c.Mail
	setString(&m.From, DefaultFrom)
	setString(&m.Dir, DefaultMailDir)
	setString(&m.DigestSchedule, DefaultDigestSchedule)
	setDuration(&m.GroupWait, DefaultGroupWait)
	setDuration(&m.MuteFor, DefaultMuteFor)
	setDuration(&m.Retry.Initial, DefaultRetryInitial)
	setDuration(&m.Retry.Max, DefaultRetryMax)
	setString(&m.Operator, m.Fallback)
	setString(&m.HeartbeatSchedule, DefaultHeartbeatSchedule)
	setString(&m.SubjectPrefix, DefaultSubjectPrefix)
	if s := m.SMTP; s != nil {
		setDuration(&s.Timeout, DefaultSMTPTimeout)
		if s.Port == 0 {
			switch s.TLS {
			case "tls":
				s.Port = 465
			case "starttls":
				s.Port = 587
			default:
				s.Port = 25
			}
		}
	}
	d := &c.Defaults
	setString(&d.Schedule, DefaultSchedule)
	setDuration(&d.Timeout, DefaultFeedTimeout)
	setDuration(&d.MaxItemAge, DefaultMaxItemAge)
	setDuration(&d.QuietAfter, DefaultQuietAfter)
	setString(&d.UserAgent, DefaultUserAgent)
	if d.FailuresBeforeNotice == 0 {
		d.FailuresBeforeNotice = DefaultFailuresBeforeNotice
	}
	if d.MaxItems == 0 {
		d.MaxItems = DefaultMaxItems
	}
	if c.Polling.Concurrency == 0 {
		c.Polling.Concurrency = DefaultConcurrency
	}
	if c.Polling.PerHost == 0 {
		c.Polling.PerHost = DefaultPerHost
	}
	if c.Polling.RequestsPerMinute == nil {
		c.Polling.RequestsPerMinute = maps.Clone(DefaultRequestsPerMinute)
	}
	setDuration(&c.Polling.Jitter, DefaultJitter)
	setDuration(&c.Polling.MaxBackoff, DefaultMaxBackoff)
	for i := range c.Feeds {
		f := &c.Feeds[i]
		setString(&f.Schedule, d.Schedule)
		setString(&f.Type, FeedTypeRSS)
		if !f.Timeout.Set {
			f.Timeout = d.Timeout
		}
		if !f.MaxItemAge.Set {
			f.MaxItemAge = d.MaxItemAge
		}
		if !f.QuietAfter.Set {
			f.QuietAfter = d.QuietAfter
		}
		if f.MaxItems == 0 {
			f.MaxItems = d.MaxItems
		}
		setString(&f.Name, f.ID)
	}
	for i := range c.Rules {
		r := &c.Rules[i]
		setString(&r.Severity, DefaultSeverity)
		setString(&r.Category, DefaultCategory)
		setString(&r.Delivery, DefaultDelivery)
		if len(r.Notify) == 0 {
			r.Notify = append([]string(nil), DefaultNotify...)
		}
	}
}
