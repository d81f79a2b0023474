package alerts

import (
	"log/slog"
	"slices"
	"strings"

	"github.com/schoolwatch/schoolwatch/rules"
	"github.com/schoolwatch/schoolwatch/store"
	"github.com/schoolwatch/schoolwatch/watchers"
)

// Routes is the routing table: who leads each school, and whom and how
// each rule tells. The daemon builds it once from the compiled config.
type Routes struct {
	Schools []School
	Rules   []Rule
	// Fallback receives the findings of a rule whose roles nobody at the
	// school holds; "" drops them, with an error log.
	Fallback string
	// Observers, if set, returns the addresses copied on a finding about
	// a school with a category and severity (a local authority's
	// safeguarding team on every critical finding, say), beside the
	// school's leaders. Mentions are never copied.
	Observers func(school string, category rules.Category, severity rules.Severity) []string
}

// School is one watched school as the alert mail names it.
type School struct {
	ID, Name string
	Leaders  []Leader
}

// Leader is a person who receives a school's alerts.
type Leader struct {
	Name, Email string
	Roles       []string
	// DigestOnly holds every finding but a critical one for the digest.
	DigestOnly bool
	// Heartbeat sends the leader the weekly "all quiet" mail.
	Heartbeat bool
	// Mentions is the digest that carries the leader's mention findings:
	// rules.Digest (daily), rules.Weekly, or "" for none.
	Mentions rules.Delivery
}

// hasRole reports whether the leader has any of roles.
func (l Leader) hasRole(roles []string) bool {
	return slices.ContainsFunc(l.Roles, func(r string) bool { return slices.Contains(roles, r) })
}

// Rule is what routing and the mail need from one compiled rule.
type Rule struct {
	ID       string
	Notify   []string // the leader roles it tells
	Delivery rules.Delivery
	Severity rules.Severity
	Category rules.Category
	Guidance string // the guidance section its alerts carry
}

// Router decides who hears about each finding.
type Router struct {
	schools   map[string]*School
	rules     map[string]*Rule
	fallback  string
	observers func(string, rules.Category, rules.Severity) []string
	log       *slog.Logger
}

// NewRouter returns a router for the table rt. A nil log discards.
func NewRouter(rt Routes, log *slog.Logger) *Router {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	r := &Router{schools: map[string]*School{}, rules: map[string]*Rule{}, fallback: rt.Fallback, observers: rt.Observers, log: log}
	for i := range rt.Schools {
		r.schools[rt.Schools[i].ID] = &rt.Schools[i]
	}
	for i := range rt.Rules {
		r.rules[rt.Rules[i].ID] = &rt.Rules[i]
	}
	if _, ok := r.rules[rules.MentionRule]; !ok {
		r.rules[rules.MentionRule] = &MentionRoute
	}
	return r
}

// MentionRoute routes mention findings (rules.MatchMentions): to the
// leaders who asked for mentions, in their digest, with the triage every
// alert carries.
var MentionRoute = Rule{
	ID: rules.MentionRule, Category: rules.Mention, Severity: rules.Info,
	Delivery: rules.Digest, Guidance: "first-steps",
}

// Recipient is one person a finding is routed to, and how.
type Recipient struct {
	Name, Email string
	Delivery    rules.Delivery
}

// Recipients returns the leaders of school whose roles rule notifies; when
// there are none, the fallback address. A leader who opted into
// digest_only gets the finding in the digest, unless it is critical.
func (r *Router) Recipients(school *School, rule *Rule) []Recipient {
	var out []Recipient
	seen := map[string]bool{}
	if rule.ID == rules.MentionRule {
		// Mentions go to the leaders who asked for them, in their
		// digest; never at once, never to the fallback address.
		for _, l := range school.Leaders {
			addr := strings.ToLower(strings.TrimSpace(l.Email))
			if l.Mentions == "" || seen[addr] {
				continue
			}
			seen[addr] = true
			out = append(out, Recipient{Name: l.Name, Email: addr, Delivery: l.Mentions})
		}
		return out
	}
	critical := rule.Severity == rules.Critical
	delivery := rules.Immediate
	if rule.Delivery != "" && rule.Delivery != rules.Immediate && !critical {
		delivery = rule.Delivery
	}
	for _, l := range school.Leaders {
		addr := strings.ToLower(strings.TrimSpace(l.Email))
		if !l.hasRole(rule.Notify) || seen[addr] {
			continue
		}
		seen[addr] = true
		d := delivery
		if d == rules.Immediate && l.DigestOnly && !critical {
			d = rules.Digest
		}
		out = append(out, Recipient{Name: l.Name, Email: addr, Delivery: d})
	}
	if len(out) == 0 && r.fallback != "" {
		r.log.Warn("no leader has the rule's roles; using the fallback address", "school", school.ID, "rule", rule.ID, "roles", strings.Join(rule.Notify, ","))
		out = append(out, Recipient{Name: "", Email: strings.ToLower(r.fallback), Delivery: delivery})
		seen[strings.ToLower(r.fallback)] = true
	}
	if r.observers != nil {
		for _, addr := range r.observers(school.ID, rule.Category, rule.Severity) {
			if !seen[addr] {
				seen[addr] = true
				out = append(out, Recipient{Email: addr, Delivery: delivery})
			}
		}
	}
	if len(out) == 0 {
		r.log.Error("finding reaches nobody: no leader has the rule's roles and mail.fallback is not set", "school", school.ID, "rule", rule.ID)
	}
	return out
}

// maxWordsLen caps each of an Alert's Names and Says, in characters.
const maxWordsLen = 60

// appendFold appends w to ws unless it is empty or ws holds it already,
// ignoring case.
func appendFold(ws []string, w string) []string {
	if w == "" || slices.ContainsFunc(ws, func(x string) bool { return strings.EqualFold(x, w) }) {
		return ws
	}
	return append(ws, w)
}

// Route turns an item's findings into pending rows, one per recipient and
// rule, each carrying the Alert its mail needs. Findings for unknown
// schools or rules (a config reload raced) are dropped with an error log.
func (r *Router) Route(it watchers.Item, fs []rules.Finding) []store.Pending {
	var out []store.Pending
	for _, f := range fs {
		school, ok := r.schools[f.School]
		rule, ok2 := r.rules[f.Rule]
		if !ok || !ok2 {
			r.log.Error("finding for unknown school or rule", "school", f.School, "rule", f.Rule)
			continue
		}
		a := Alert{
			ItemKey: it.Key, FeedID: it.FeedID, FeedName: it.FeedName, Title: it.Title, Link: it.Link, Author: it.Author,
			Published: it.Published, Dated: it.Dated,
			SchoolID: school.ID, SchoolName: school.Name,
			RuleID: rule.ID, Category: rule.Category, Severity: rule.Severity, Guidance: rule.Guidance,
			Excerpt: rules.Excerpt(it.Content(), f.Evidence, 320),
		}
		content := it.Content()
		for _, sp := range f.Evidence {
			if !slices.Contains(a.Matched, sp.Term) {
				a.Matched = append(a.Matched, sp.Term)
			}
			if sp.Start < 0 || sp.End > len(content) || sp.Start >= sp.End {
				continue
			}
			words := SanitizeText(content[sp.Start:sp.End], maxWordsLen)
			if sp.Kind == rules.SchoolSpan {
				a.Names = appendFold(a.Names, words)
			} else {
				a.Says = appendFold(a.Says, words)
			}
		}
		body := a.encode()
		for _, rc := range r.Recipients(school, rule) {
			out = append(out, store.Pending{
				Recipient: rc.Email, SchoolID: school.ID, RuleID: rule.ID,
				Severity: rule.Severity.Rank(), Delivery: string(rc.Delivery), Payload: body,
			})
		}
	}
	return out
}
