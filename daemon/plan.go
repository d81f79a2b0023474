package main

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/exporter-toolkit/web"

	"github.com/schoolwatch/schoolwatch/config"
	"github.com/schoolwatch/schoolwatch/guidance"
	"github.com/schoolwatch/schoolwatch/rules"
	"github.com/schoolwatch/schoolwatch/watchers"
)

// ContactMaxAge is how long a contact may go unverified before check warns.
const ContactMaxAge = 365 * 24 * time.Hour

// setup is a loaded, fully validated configuration with everything compiled
// from it: the guidance pack, the matcher and the concrete feed list.
type setup struct {
	cfg      *config.Config
	pack     *guidance.Pack
	matcher  *rules.Matcher
	feeds    []watchers.Feed
	warnings []string
}

// load reads the config at path and compiles it. Every problem, from YAML
// syntax to a query's missing parenthesis or an unknown guidance section, is
// returned at once as config.Errors naming file:line and field.
func load(path string, now time.Time) (*setup, error) {
	cfg, err := config.Load(path)
	if err != nil {
		return nil, err
	}
	s := &setup{cfg: cfg}
	var errs config.Errors

	if cfg.Guidance.Dir != "" {
		p, err := guidance.Load(cfg.Resolve(cfg.Guidance.Dir))
		if err != nil {
			errs = append(errs, cfg.Errorf("guidance.dir", "%v", err))
			p = guidance.Builtin()
		}
		s.pack = p
	} else {
		s.pack = guidance.Builtin()
	}
	s.pack = s.pack.WithContacts(configContacts(cfg))
	for _, c := range guidance.StaleContacts(s.pack.Contacts(), now, ContactMaxAge) {
		when := "never"
		if !c.Verified.IsZero() {
			when = "on " + c.Verified.Format(time.DateOnly)
		}
		s.warnings = append(s.warnings, fmt.Sprintf("contact %q was last verified %s, more than a year ago: check it against %s and update verified", c.Name, when, orNone(c.URL)))
	}

	var ids []string
	for _, sec := range s.pack.Sections() {
		ids = append(ids, sec.ID)
	}
	for i := range cfg.Rules {
		r := &cfg.Rules[i]
		field := fmt.Sprintf("rules[%d].guidance", i)
		if r.Guidance == "" {
			if secs := s.pack.ForCategory(r.Category); len(secs) > 0 {
				r.Guidance = secs[0].ID
			} else {
				r.Guidance = "first-steps"
			}
			continue
		}
		if !slices.Contains(ids, r.Guidance) {
			errs = append(errs, cfg.Errorf(field, "unknown guidance section %q (known: %s)", r.Guidance, strings.Join(ids, ", ")))
		}
	}

	m, err := rules.Compile(ruleSchools(cfg), ruleRules(cfg))
	if err != nil {
		var rerrs rules.Errors
		if !errors.As(err, &rerrs) {
			return nil, err
		}
		for _, re := range rerrs {
			errs = append(errs, cfg.Errorf(re.Field, "%s", re.Msg))
		}
	}
	s.matcher = m

	if cfg.HTTP.WebConfig != "" {
		if err := web.Validate(cfg.Resolve(cfg.HTTP.WebConfig)); err != nil {
			errs = append(errs, cfg.Errorf("http.web_config", "%v", err))
		}
	}

	feeds, err := watchers.Expand(cfg)
	if err != nil {
		errs = append(errs, cfg.Errorf("feeds", "%v", err))
	}
	s.feeds = feeds
	if len(errs) > 0 {
		slices.SortStableFunc(errs, func(a, b config.Error) int { return a.Line - b.Line })
		return nil, errs
	}
	return s, nil
}

func orNone(s string) string {
	if s == "" {
		return "its source"
	}
	return s
}

func ruleSchools(cfg *config.Config) []rules.School {
	out := make([]rules.School, len(cfg.Schools))
	for i, s := range cfg.Schools {
		out[i] = rules.School{ID: s.ID, Name: s.Name, Town: s.Town, Aliases: s.Aliases, Hashtags: s.Hashtags, Domains: s.Domains, Context: s.Context}
	}
	return out
}

func ruleRules(cfg *config.Config) []rules.Rule {
	out := make([]rules.Rule, len(cfg.Rules))
	for i, r := range cfg.Rules {
		out[i] = rules.Rule{ID: r.ID, Query: r.Query, Category: r.Category, Severity: r.Severity, Guidance: r.Guidance}
	}
	return out
}
