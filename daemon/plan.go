package daemon

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
	"github.com/schoolwatch/schoolwatch/yamlpos"
)

// ContactMaxAge is how long a contact may go unverified before check warns.
const ContactMaxAge = 365 * 24 * time.Hour

// Plan is a loaded, fully validated configuration with everything compiled
// from it once: the guidance pack, the matcher and the concrete feed list.
// The daemon, `once` and the other commands all start from a Plan.
type Plan struct {
	Config   *config.Config
	Pack     *guidance.Pack
	Matcher  *rules.Matcher
	Feeds    []watchers.Feed
	Warnings []string
}

// Compile reads the config at path and compiles it. Every problem, from YAML
// syntax to a query's missing parenthesis or an unknown guidance section, is
// returned at once as config.Errors naming file:line and field.
func Compile(path string, now time.Time) (*Plan, error) {
	cfg, err := config.Load(path)
	if err != nil {
		return nil, err
	}
	p := &Plan{Config: cfg}
	var errs yamlpos.Errors

	pack, err := Pack(cfg)
	if err != nil {
		errs = append(errs, cfg.Errorf("guidance.dir", "%v", errors.Unwrap(err)))
		pack = guidance.Builtin().WithContacts(cfg.Guidance.Contacts)
	}
	p.Pack = pack
	for _, c := range guidance.StaleContacts(p.Pack.Contacts(), now, ContactMaxAge) {
		when := "never"
		if !c.Verified.IsZero() {
			when = "on " + c.Verified.Format(time.DateOnly)
		}
		p.Warnings = append(p.Warnings, fmt.Sprintf("contact %q was last verified %s, more than a year ago: check it against %s and update verified", c.Name, when, orNone(c.URL)))
	}

	var ids []string
	for _, sec := range p.Pack.Sections() {
		ids = append(ids, sec.ID)
	}
	rs := ruleRules(cfg)
	for i := range rs {
		r := &rs[i]
		if r.Guidance == "" {
			// The rule's category picks its section; first-steps is
			// the general advice when no section covers it.
			r.Guidance = "first-steps"
			if secs := p.Pack.ForCategory(r.Category); len(secs) > 0 {
				r.Guidance = secs[0].ID
			}
			cfg.Rules[i].Guidance = r.Guidance
			continue
		}
		if !slices.Contains(ids, r.Guidance) {
			errs = append(errs, cfg.Errorf(fmt.Sprintf("rules[%d].guidance", i), "unknown guidance section %q (known: %s)", r.Guidance, strings.Join(ids, ", ")))
		}
	}

	m, err := rules.Compile(ruleSchools(cfg), rs)
	if err != nil {
		var rerrs yamlpos.Errors
		if !errors.As(err, &rerrs) {
			return nil, err
		}
		for _, re := range rerrs {
			errs = append(errs, cfg.Errorf(re.Field, "%s", re.Msg))
		}
	}
	p.Matcher = m

	if cfg.HTTP.WebConfig != "" {
		if err := web.Validate(cfg.Resolve(cfg.HTTP.WebConfig)); err != nil {
			errs = append(errs, cfg.Errorf("http.web_config", "%v", err))
		}
	}

	feeds, err := watchers.Expand(cfg)
	if err != nil {
		errs = append(errs, cfg.Errorf("feeds", "%v", err))
	}
	p.Feeds = feeds
	if len(errs) > 0 {
		errs.Sort()
		return nil, errs
	}
	return p, nil
}

// Pack returns the guidance pack a config asks for: the built-in pack
// overlaid by guidance.dir, with guidance.contacts merged in. A nil config
// gives the built-in pack. It is the one place a pack is built, for the
// daemon and for the guidance command alike.
func Pack(cfg *config.Config) (*guidance.Pack, error) {
	if cfg == nil {
		return guidance.Builtin(), nil
	}
	p := guidance.Builtin()
	if cfg.Guidance.Dir != "" {
		var err error
		if p, err = guidance.Load(cfg.Resolve(cfg.Guidance.Dir)); err != nil {
			return nil, fmt.Errorf("%s: guidance.dir: %w", cfg.Where("guidance.dir"), err)
		}
	}
	return p.WithContacts(cfg.Guidance.Contacts), nil
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
		out[i] = rules.Rule{ID: r.ID, Query: r.Query, Category: rules.Category(r.Category), Severity: rules.Severity(r.Severity), Guidance: r.Guidance}
	}
	return out
}
