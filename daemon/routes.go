package daemon

import (
	"github.com/schoolwatch/schoolwatch/alerts"
	"github.com/schoolwatch/schoolwatch/config"
	"github.com/schoolwatch/schoolwatch/mail"
	"github.com/schoolwatch/schoolwatch/rules"
)

// routes is the routing table of a config whose rules compiled to
// compiled (in config order): each school with its leaders, and each rule
// as the matcher runs it (category, severity, guidance section) with the
// roles it tells and how.
func routes(cfg *config.Config, compiled []rules.Rule) alerts.Routes {
	rt := alerts.Routes{Fallback: cfg.Mail.Fallback}
	for _, s := range cfg.Schools {
		if s.Paused {
			continue // no findings, no heartbeat: paused until un-paused
		}
		school := alerts.School{ID: s.ID, Name: s.Name}
		for _, l := range s.Leaders {
			school.Leaders = append(school.Leaders, alerts.Leader{
				Name: l.Name, Email: l.Email, Roles: l.Roles, DigestOnly: l.DigestOnly,
				Heartbeat: l.Heartbeat == nil || *l.Heartbeat,
				Mentions:  mentionsDelivery(config.MentionsOf(l)),
			})
		}
		rt.Schools = append(rt.Schools, school)
	}
	for i, r := range compiled {
		c := cfg.Rules[i]
		rt.Rules = append(rt.Rules, alerts.Rule{
			ID: r.ID, Notify: c.Notify, Delivery: rules.Delivery(c.Delivery),
			Severity: r.Severity, Category: r.Category, Guidance: r.Guidance,
		})
	}
	return rt
}

// mentionsDelivery maps a leader's mentions setting to the digest that
// carries them ("" for none).
func mentionsDelivery(m string) rules.Delivery {
	switch m {
	case config.MentionsDaily:
		return rules.Digest
	case config.MentionsWeekly:
		return rules.Weekly
	}
	return ""
}

// letterhead is how every mail of cfg is signed and dated.
func letterhead(cfg *config.Config) alerts.Letterhead {
	return alerts.Letterhead{From: cfg.Mail.From, SubjectPrefix: cfg.Mail.SubjectPrefix, Host: mail.Hostname(), Location: cfg.Location}
}
