package alerts

import (
	"log/slog"
	"slices"
	"strings"

	"github.com/schoolwatch/schoolwatch/config"
	"github.com/schoolwatch/schoolwatch/rules"
	"github.com/schoolwatch/schoolwatch/store"
	"github.com/schoolwatch/schoolwatch/watchers"
)

// Router decides who hears about each finding.
type Router struct {
	cfg *config.Config
	log *slog.Logger
}

// NewRouter returns a router for cfg.
func NewRouter(cfg *config.Config, log *slog.Logger) *Router {
	if log == nil {
		log = slog.Default()
	}
	return &Router{cfg: cfg, log: log}
}

// Recipient is one person a finding is routed to.
type Recipient struct {
	Name, Email string
	Digest      bool
}

// Recipients returns the leaders of school whose roles rule notifies; when
// there are none, the configured fallback address. A leader who opted into
// digest_only gets the finding in the digest, unless it is critical.
func (r *Router) Recipients(school *config.School, rule *config.Rule) []Recipient {
	var out []Recipient
	seen := map[string]bool{}
	digest := rule.Delivery == "digest" && rule.Severity != Critical
	for _, l := range school.Leaders {
		addr := strings.ToLower(strings.TrimSpace(l.Email))
		if !l.HasRole(rule.Notify) || seen[addr] {
			continue
		}
		seen[addr] = true
		out = append(out, Recipient{Name: l.Name, Email: addr, Digest: digest || (l.DigestOnly && rule.Severity != Critical)})
	}
	if len(out) == 0 && r.cfg.Mail.Fallback != "" {
		r.log.Warn("no leader has the rule's roles; using the fallback address", "school", school.ID, "rule", rule.ID, "roles", strings.Join(rule.Notify, ","))
		out = append(out, Recipient{Name: "", Email: strings.ToLower(r.cfg.Mail.Fallback), Digest: digest})
	}
	if len(out) == 0 {
		r.log.Error("finding reaches nobody: no leader has the rule's roles and mail.fallback is not set", "school", school.ID, "rule", rule.ID)
	}
	return out
}

// Route turns an item's findings into pending rows, one per recipient and
// rule. Findings for unknown schools or rules (a config reload raced) are
// dropped with an error log.
func (r *Router) Route(it watchers.Item, fs []rules.Finding) []store.Pending {
	var out []store.Pending
	for _, f := range fs {
		school, ok := r.cfg.School(f.School)
		rule, ok2 := r.cfg.Rule(f.Rule)
		if !ok || !ok2 {
			r.log.Error("finding for unknown school or rule", "school", f.School, "rule", f.Rule)
			continue
		}
		payload := Finding{
			ItemKey: it.Key, FeedID: it.FeedID, FeedName: it.FeedName, Title: it.Title, Link: it.Link, Author: it.Author,
			Published: it.Published, Dated: it.Dated,
			SchoolID: school.ID, SchoolName: school.Name,
			RuleID: rule.ID, Category: rule.Category, Severity: rule.Severity, Guidance: rule.Guidance,
			Excerpt: rules.Excerpt(it.Content(), f.Evidence, 320),
		}
		for _, sp := range f.Evidence {
			if !slices.Contains(payload.Matched, sp.Term) {
				payload.Matched = append(payload.Matched, sp.Term)
			}
		}
		body := payload.encode()
		for _, rc := range r.Recipients(school, rule) {
			delivery := "immediate"
			if rc.Digest {
				delivery = "digest"
			}
			out = append(out, store.Pending{
				Recipient: rc.Email, SchoolID: school.ID, RuleID: rule.ID,
				Severity: SeverityRank(rule.Severity), Delivery: delivery, Payload: body,
			})
		}
	}
	return out
}
