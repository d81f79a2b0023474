package daemon

import (
	"net/mail"
	"slices"
	"strings"

	"github.com/schoolwatch/schoolwatch/config"
)

// Observers are the config's observers: list, ready for routing. An
// observer (a local authority's safeguarding team, say) is copied on the
// findings of every school whose category and severity it asks for, beside
// the school's own leaders; a paused school has none. The zero value and
// nil have no observers.
type Observers struct {
	list   []observer
	paused map[string]bool // school IDs
}

type observer struct {
	addr       string // bare and lower-case, as the router compares addresses
	categories map[string]bool
	severities map[string]bool // nil: every one
}

// NewObservers compiles cfg's observers.
func NewObservers(cfg *config.Config) *Observers {
	o := &Observers{paused: map[string]bool{}}
	for _, s := range cfg.Schools {
		if s.Paused {
			o.paused[s.ID] = true
		}
	}
	for _, c := range cfg.Observers {
		ob := observer{addr: bareAddress(c.Address), categories: set(c.Categories), severities: set(c.Severities)}
		if ob.addr != "" {
			o.list = append(o.list, ob)
		}
	}
	return o
}

// For returns the addresses to copy on a finding about school (its ID)
// with category and severity (a rules.Finding's fields): each observer
// that asks for both, once, in config order, bare and lower-case. It is
// nil when none does, and for a paused school.
func (o *Observers) For(school, category, severity string) []string {
	if o == nil || o.paused[school] {
		return nil
	}
	var out []string
	for _, ob := range o.list {
		if (ob.categories == nil || ob.categories[category]) &&
			(ob.severities == nil || ob.severities[severity]) &&
			!slices.Contains(out, ob.addr) {
			out = append(out, ob.addr)
		}
	}
	return out
}

// Len is the number of observers.
func (o *Observers) Len() int {
	if o == nil {
		return 0
	}
	return len(o.list)
}

func set(list []string) map[string]bool {
	if len(list) == 0 {
		return nil
	}
	m := make(map[string]bool, len(list))
	for _, v := range list {
		m[v] = true
	}
	return m
}

// bareAddress is the address part of a configured address, which may
// carry a display name ("LA Safeguarding <lado@la.example>"), lower-case;
// "" if it does not parse (validation has reported it).
func bareAddress(s string) string {
	a, err := mail.ParseAddress(strings.TrimSpace(s))
	if err != nil {
		return ""
	}
	return strings.ToLower(a.Address)
}
