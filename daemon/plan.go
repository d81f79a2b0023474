package daemon

import (
	"fmt"
	"strings"
	"time"

	"github.com/prometheus/exporter-toolkit/web"
	"github.com/robfig/cron/v3"

	"github.com/schoolwatch/schoolwatch/alerts"
	"github.com/schoolwatch/schoolwatch/classify"
	"github.com/schoolwatch/schoolwatch/config"
	"github.com/schoolwatch/schoolwatch/guidance"
	"github.com/schoolwatch/schoolwatch/rules"
	"github.com/schoolwatch/schoolwatch/watchers"
	"github.com/schoolwatch/schoolwatch/yamlpos"
)

// Plan is a loaded, fully validated configuration with everything compiled
// from it once: the guidance pack, the rules with their guidance sections
// filled in, the matcher and the concrete feed list. The daemon, `once` and
// the other commands all start from a Plan.
type Plan struct {
	Config *config.Config
	Pack   *guidance.Pack
	// Rules are the configured rules as the matcher runs them, in config
	// order: a rule that names no guidance section has the one its
	// category picks (guidance.Pack.DefaultSection).
	Rules   []rules.Rule
	Matcher *rules.Matcher
	// Routes is who hears about each rule's findings, and how: the
	// routing table built from Rules and the schools' leaders.
	Routes alerts.Routes
	// Model is the built-in linear model, masked for the configured
	// schools; nil when model_builtin is false.
	Model *classify.Model
	// detect is the detection step: rules, then the model, then mentions.
	detect *detector
	Feeds  []watchers.Feed
	// FeedSchedules holds the poll schedule of each of Feeds, by feed ID;
	// DigestSchedule and HeartbeatSchedule are mail.digest_schedule and
	// mail.heartbeat_schedule. All are parsed once, when the config loads.
	FeedSchedules     map[string]cron.Schedule
	DigestSchedule    cron.Schedule
	HeartbeatSchedule cron.Schedule
	Warnings          []string
}

// Compile reads the config at path and compiles it. Every problem, from YAML
// syntax to a query's missing parenthesis or an unknown guidance section, is
// returned at once as a yamlpos.Errors naming file:line and field: the
// compile step runs as a config.Check, in the same pass as validation.
func Compile(path string, now time.Time) (*Plan, error) {
	p := &Plan{}
	cfg, err := config.Load(path, func(cfg *config.Config) yamlpos.Errors { return p.compile(cfg, now) })
	if err != nil {
		return nil, err
	}
	p.Config = cfg
	p.Routes = routes(cfg, p.Rules)
	var possible []alerts.Rule
	if cfg.ModelBuiltin == nil || *cfg.ModelBuiltin {
		p.Model = classify.Builtin().ForSchools(ruleSchools(cfg))
		possible = possibleRoutes(p.Routes, p.Model, p.Pack.DefaultSection)
		p.Routes.Rules = append(p.Routes.Rules, possible...)
	}
	p.detect = newDetector(p.Matcher, p.Model, possible)
	return p, nil
}

// compile fills in p from cfg, which Load has decoded and defaulted but may
// have found problems in, and returns the problems it finds itself, each
// named by field.
func (p *Plan) compile(cfg *config.Config, now time.Time) yamlpos.Errors {
	var errs yamlpos.Errors
	pack, err := loadPack(cfg)
	if err != nil {
		errs = append(errs, yamlpos.Error{Field: "guidance.dir", Msg: err.Error()})
		pack = guidance.Builtin().WithContacts(cfg.Guidance.Contacts)
	}
	p.Pack = pack
	for _, c := range guidance.StaleContacts(pack.Contacts(), now, guidance.MaxContactAge) {
		when := "never"
		if !c.Verified.IsZero() {
			when = "on " + c.Verified.Format(time.DateOnly)
		}
		p.Warnings = append(p.Warnings, fmt.Sprintf("contact %q was last verified %s, more than a year ago: check it against %s and update verified", c.Name, when, orNone(c.URL)))
	}

	p.Rules = make([]rules.Rule, len(cfg.Rules))
	for i, r := range cfg.Rules {
		p.Rules[i] = rules.Rule{ID: r.ID, Query: r.Query, Category: rules.Category(r.Category), Severity: rules.Severity(r.Severity), Guidance: r.Guidance}
		if r.Guidance == "" {
			p.Rules[i].Guidance = pack.DefaultSection(p.Rules[i].Category)
		} else if _, ok := pack.Section(r.Guidance); !ok {
			errs = append(errs, yamlpos.Errorf("", 0, fmt.Sprintf("rules[%d].guidance", i), "unknown guidance section %q (known: %s)", r.Guidance, strings.Join(sectionIDs(pack), ", ")))
		}
	}
	p.Matcher, err = rules.CompileLists(ruleSchools(cfg), p.Rules, cfg.TermLists)
	errs.Add(err)

	if cfg.HTTP.WebConfig != "" {
		if err := web.Validate(cfg.Resolve(cfg.HTTP.WebConfig)); err != nil {
			errs = append(errs, yamlpos.Error{Field: "http.web_config", Msg: err.Error()})
		}
	}

	p.Feeds, err = watchers.Expand(cfg)
	if err != nil {
		errs = append(errs, yamlpos.Error{Field: "feeds", Msg: err.Error()})
	}
	p.FeedSchedules = feedSchedules(cfg, p.Feeds)
	p.DigestSchedule, p.HeartbeatSchedule = cfg.Mail.DigestCron, cfg.Mail.HeartbeatCron
	return errs
}

// feedSchedules maps each concrete feed's ID to its configured feed's
// schedule: a per_school feed "f/school" polls on feed f's.
func feedSchedules(cfg *config.Config, feeds []watchers.Feed) map[string]cron.Schedule {
	byID := map[string]cron.Schedule{}
	for _, f := range cfg.Feeds {
		byID[f.ID] = f.Cron
	}
	out := make(map[string]cron.Schedule, len(feeds))
	for _, f := range feeds {
		id, _, _ := strings.Cut(f.ID, "/")
		out[f.ID] = byID[id]
	}
	return out
}

// Pack returns the guidance pack a config asks for: the built-in pack
// overlaid by guidance.dir, with guidance.contacts merged in. A nil config
// gives the built-in pack. It is the one place a pack is built, for the
// daemon and for the guidance command alike.
func Pack(cfg *config.Config) (*guidance.Pack, error) {
	if cfg == nil {
		return guidance.Builtin(), nil
	}
	p, err := loadPack(cfg)
	if err != nil {
		return nil, fmt.Errorf("%s: guidance.dir: %w", cfg.Where("guidance.dir"), err)
	}
	return p, nil
}

func loadPack(cfg *config.Config) (*guidance.Pack, error) {
	p := guidance.Builtin()
	if cfg.Guidance.Dir != "" {
		var err error
		if p, err = guidance.Load(cfg.Resolve(cfg.Guidance.Dir)); err != nil {
			return nil, err
		}
	}
	return p.WithContacts(cfg.Guidance.Contacts), nil
}

func sectionIDs(p *guidance.Pack) []string {
	var ids []string
	for _, s := range p.Sections() {
		ids = append(ids, s.ID)
	}
	return ids
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
