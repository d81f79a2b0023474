package daemon

import (
	"fmt"
	"slices"
	"strconv"
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
	// DigestSchedule and HeartbeatSchedule are mail.digest_schedule and
	// mail.heartbeat_schedule, parsed once when the config loads, as each
	// of Feeds' schedules is.
	DigestSchedule    cron.Schedule
	HeartbeatSchedule cron.Schedule
	// Observers are the config's observers, ready to route: For gives the
	// addresses copied on a finding.
	Observers *Observers
	Warnings  []string
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
	if p.Observers.Len() > 0 {
		obs := p.Observers
		p.Routes.Observers = func(school string, c rules.Category, sev rules.Severity) []string {
			return obs.For(school, string(c), string(sev))
		}
	}
	var possible []alerts.Rule
	if cfg.ModelBuiltin == nil || *cfg.ModelBuiltin {
		all := make([]int, len(cfg.Schools))
		for i := range all {
			all[i] = i
		}
		p.Model = classify.Builtin().ForSchools(ruleSchools(cfg, all))
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
	var merrs yamlpos.Errors
	p.Matcher, merrs = compileMatcher(cfg, p.Rules)
	errs = append(errs, merrs...)
	if paused := pausedIDs(cfg); len(paused) > 0 {
		p.Warnings = append(p.Warnings, fmt.Sprintf("%d of %d schools are paused and get no alerts: %s", len(paused), len(cfg.Schools), abbreviate(paused, 10)))
	}
	p.Observers = NewObservers(cfg)

	if cfg.HTTP.WebConfig != "" {
		if err := web.Validate(cfg.Resolve(cfg.HTTP.WebConfig)); err != nil {
			errs = append(errs, yamlpos.Error{Field: "http.web_config", Msg: err.Error()})
		}
	}

	p.Feeds, err = expandFeeds(cfg)
	if err != nil {
		errs = append(errs, yamlpos.Error{Field: "feeds", Msg: err.Error()})
	}
	p.Warnings = append(p.Warnings, unexpanded(cfg, p.Feeds)...)
	p.DigestSchedule, p.HeartbeatSchedule = cfg.Mail.DigestCron, cfg.Mail.HeartbeatCron
	return errs
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

// compileMatcher builds the matcher from the schools that are not paused
// and the rules. A paused school is left out of matching altogether, so it
// has no findings, no alerts and no observer copies, and, left out, it
// cannot make another school's alias look shared; its names are still
// checked (in a throwaway matcher of the paused schools alone), so that
// unpausing it cannot break a config that passed check. A school's
// short_name is one more alias. Problems are named by the config's fields.
func compileMatcher(cfg *config.Config, rs []rules.Rule) (*rules.Matcher, yamlpos.Errors) {
	var active, paused []int // indices into cfg.Schools
	for i, s := range cfg.Schools {
		if s.Paused {
			paused = append(paused, i)
		} else {
			active = append(active, i)
		}
	}
	var errs yamlpos.Errors
	m, err := rules.CompileLists(ruleSchools(cfg, active), rs, cfg.TermLists)
	errs.Add(err)
	errs = renumber(cfg, errs, active)
	if len(paused) > 0 {
		var perrs yamlpos.Errors
		_, err := rules.Compile(ruleSchools(cfg, paused), nil)
		perrs.Add(err)
		errs = append(errs, renumber(cfg, perrs, paused)...)
	}
	return m, errs
}

// renumber turns the matcher's "schools[k]…" fields, k indexing the
// schools it was given, into the config's: schools[idx[k]], and the alias
// that short_name became into short_name.
func renumber(cfg *config.Config, errs yamlpos.Errors, idx []int) yamlpos.Errors {
	for i, e := range errs {
		rest, ok := strings.CutPrefix(e.Field, "schools[")
		if !ok {
			continue
		}
		j := strings.IndexByte(rest, ']')
		k, err := strconv.Atoi(rest[:max(j, 0)])
		if j < 0 || err != nil || k >= len(idx) {
			continue
		}
		s := cfg.Schools[idx[k]]
		tail := rest[j+1:]
		if s.ShortName != "" && tail == fmt.Sprintf(".aliases[%d]", len(s.Aliases)) {
			tail = ".short_name"
		}
		errs[i].Field = fmt.Sprintf("schools[%d]%s", idx[k], tail)
	}
	return errs
}

// ruleSchools are the schools at idx in cfg.Schools, as the matcher takes
// them.
func ruleSchools(cfg *config.Config, idx []int) []rules.School {
	out := make([]rules.School, len(idx))
	for i, k := range idx {
		s := &cfg.Schools[k]
		aliases := s.Aliases
		if s.ShortName != "" {
			aliases = append(slices.Clip(aliases), s.ShortName)
		}
		out[i] = rules.School{ID: s.ID, Name: s.Name, Town: s.Town, Aliases: aliases, Hashtags: s.Hashtags, Domains: s.Domains, Context: s.Context}
	}
	return out
}

func pausedIDs(cfg *config.Config) []string {
	var out []string
	for _, s := range cfg.Schools {
		if s.Paused {
			out = append(out, s.ID)
		}
	}
	return out
}

// abbreviate lists up to n of ids, then how many more.
func abbreviate(ids []string, n int) string {
	if len(ids) <= n {
		return strings.Join(ids, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(ids[:n], ", "), len(ids)-n)
}

// unexpanded warns of per_school feeds that some schools get no feed from,
// because they lack what the URL template uses (a domain, hashtags).
func unexpanded(cfg *config.Config, feeds []watchers.Feed) []string {
	got := map[string]map[string]bool{} // configured feed ID → school IDs
	for _, f := range feeds {
		if f.SchoolID == "" {
			continue
		}
		id, _, _ := strings.Cut(f.ID, "/")
		if got[id] == nil {
			got[id] = map[string]bool{}
		}
		got[id][f.SchoolID] = true
	}
	var out []string
	for i, f := range cfg.Feeds {
		if !f.PerSchool {
			continue
		}
		var missing []string
		for _, s := range cfg.Schools {
			if !s.Paused && !got[f.ID][s.ID] {
				missing = append(missing, s.ID)
			}
		}
		if len(missing) > 0 {
			out = append(out, fmt.Sprintf("feeds[%d] (%s): %d schools have no domain or hashtag for its URL template and are not searched by it: %s", i, f.ID, len(missing), abbreviate(missing, 10)))
		}
	}
	return out
}
