package daemon

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/schoolwatch/schoolwatch/alerts"
	"github.com/schoolwatch/schoolwatch/config"
	"github.com/schoolwatch/schoolwatch/rules"
	"github.com/schoolwatch/schoolwatch/store"
	"github.com/schoolwatch/schoolwatch/watchers"
)

// ReportedPost is a post someone saw where no feed reaches (a closed
// Facebook group, X, Instagram, TikTok, Nextdoor, a screenshot), reported
// for one school: `schoolwatch report`.
type ReportedPost struct {
	School string // the school's id (required)
	Text   string // the post's text (required)
	URL    string // its address, if there is one (http or https)
	Author string
	Where  string // the platform
	// Category applies when no rule matches the text: the post is then
	// mailed as that category's rule would mail it (the first rule of the
	// category, built-in or configured), or, if no rule has it, with the
	// category's guidance section. Without it, an unmatched post goes to
	// the head with the first-steps guidance.
	Category string
	Logger   *slog.Logger
}

// ReportedPostRule is the id of the rule a reported post that matched no
// rule is mailed under, when no rule of its -category exists.
const ReportedPostRule = "reported-post"

// ReportResult is what Report did.
type ReportResult struct {
	// Findings are the findings mailed: the rules that matched the text
	// for the school, or the one the report was given (Matched false).
	Findings []rules.Finding
	Matched  bool
	// Duplicate: the same post was reported for the school before;
	// nothing was queued again.
	Duplicate bool
	// Handed is true when another schoolwatch (the daemon) holds the
	// store: the findings were recorded and that process mails them (at
	// once if critical, else after mail.group_wait).
	Handed    bool
	Queued    int
	Delivered int
	Waiting   int
}

// Report records a reported post as an item of the pseudo-feed "report",
// runs it through the daemon's intake (the same matching, routing and
// recording as a polled item, with the school taken as mentioned) and mails
// the school's leaders through the outbox: every group is flushed now and
// the outbox drained, as `once --send` does. When a running daemon holds
// the store, the findings are recorded for it to send.
func Report(ctx context.Context, p *Plan, r ReportedPost) (ReportResult, error) {
	var res ReportResult
	log := r.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	cfg := p.Config
	school, ok := cfg.School(r.School)
	if !ok {
		ids := make([]string, len(cfg.Schools))
		for i, s := range cfg.Schools {
			ids[i] = s.ID
		}
		return res, fmt.Errorf("unknown school %q (known: %s)", r.School, strings.Join(ids, ", "))
	}
	if strings.TrimSpace(r.Text) == "" {
		return res, errors.New("no text: give the post's text as the argument or on standard input")
	}
	if r.URL != "" {
		u, err := url.Parse(strings.TrimSpace(r.URL))
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return res, fmt.Errorf("-url %q: want an http or https address", r.URL)
		}
	}
	if r.Category != "" && !slices.Contains(rules.Categories, rules.Category(r.Category)) {
		return res, fmt.Errorf("-category %q: unknown (known: %s)", r.Category, rules.Join(rules.Categories))
	}

	// The rule an unmatched post is mailed under, and a config that holds
	// it, so the router can route it like any other.
	fallback, rcfg := reportRule(p, r.Category)

	release, err := lockStore(cfg)
	switch {
	case errors.Is(err, store.ErrLocked):
		res.Handed = true // the daemon runs: record for it to send
	case err != nil:
		return res, err
	default:
		defer release()
	}
	svc, g, err := oneShot(ctx, p, log)
	if err != nil {
		return res, err
	}
	defer svc.store.Close()
	in := g.intake
	in.router = alerts.NewRouter(rcfg, log)
	in.adjust = func(it watchers.Item, fs []rules.Finding) []rules.Finding {
		// Only the school it was reported for: its leaders asked.
		// A mention is not a finding here: the post was reported because
		// someone thought it mattered, so it goes to the head at once.
		// Nor is the model's reading: a person judged the post, so
		// without a rule it goes to the head with the first steps.
		fs = slices.DeleteFunc(fs, func(f rules.Finding) bool {
			return f.School != school.ID || f.Rule == rules.MentionRule || strings.HasPrefix(f.Rule, rules.PossiblyPrefix)
		})
		if len(fs) > 0 {
			res.Matched = true
			return fs
		}
		f := rules.Finding{School: school.ID, Rule: fallback.ID, Category: string(fallback.Category), Severity: string(fallback.Severity), Guidance: fallback.Guidance}
		// The evidence is the school the post was reported for.
		if i := strings.Index(it.Title, school.Name); i >= 0 {
			f.Evidence = []rules.Span{{Start: i, End: i + len(school.Name), Kind: rules.SchoolSpan, Term: school.Name}}
		}
		return []rules.Finding{f}
	}
	in.onFinding = func(_ watchers.Item, f rules.Finding) { res.Findings = append(res.Findings, f) }
	now := time.Now()
	it := watchers.ReportedItem(watchers.Reported{
		SchoolID: school.ID, SchoolName: school.Name, Place: schoolPlace(school), Text: r.Text, URL: r.URL, Author: r.Author, Where: r.Where,
	}, now)
	feed := watchers.Feed{ID: watchers.ReportFeedID, Name: it.FeedName}
	counts, err := in.Items(ctx, feed, []watchers.Item{it}, now)
	if err != nil {
		return res, err
	}
	if counts.New == 0 {
		res.Duplicate = true
		return res, nil
	}
	log.Info("post reported", "school", school.ID, "findings", len(res.Findings), "matched", res.Matched)
	if res.Handed {
		return res, nil
	}
	if res.Queued, err = g.grouper.Flush(ctx, now, true); err != nil {
		return res, err
	}
	if res.Delivered, err = g.sender.Drain(ctx); err != nil {
		return res, err
	}
	res.Waiting, _, _ = svc.store.OutboxStats(ctx)
	return res, nil
}

// reportRule is the rule a reported post is mailed under when no rule
// matches it: the first rule of category, else a rule of its own (head,
// first steps; with a category, the category's section and default
// roles). routes is p's routing table with that rule in it.
func reportRule(p *Plan, category string) (alerts.Rule, alerts.Routes) {
	rt := p.Routes
	if category != "" {
		for _, r := range rt.Rules {
			if string(r.Category) == category && !strings.HasPrefix(r.ID, rules.PossiblyPrefix) {
				return r, rt
			}
		}
	}
	rule := alerts.Rule{
		ID: ReportedPostRule, Category: rules.OtherCategory, Severity: rules.Normal,
		Guidance: "first-steps", Notify: []string{"head"}, Delivery: rules.Immediate,
	}
	if category != "" {
		rule.Category = rules.Category(category)
		rule.Severity = rules.High
		rule.Guidance = p.Pack.DefaultSection(rules.Category(category))
		rule.Notify = slices.Clone(config.DefaultNotify)
	}
	for slices.ContainsFunc(rt.Rules, func(r alerts.Rule) bool { return r.ID == rule.ID }) {
		rule.ID += "-" // a configured rule has the id
	}
	rt.Rules = append(slices.Clone(rt.Rules), rule)
	return rule, rt
}

// schoolPlace is the school's town, else its first context term.
func schoolPlace(s *config.School) string {
	if s.Town != "" {
		return s.Town
	}
	if len(s.Context) > 0 {
		return s.Context[0]
	}
	return ""
}
