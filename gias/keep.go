package gias

import (
	"slices"
	"strings"

	"github.com/schoolwatch/schoolwatch/config"
)

// Kept is what Keep carried over from a previous import.
type Kept struct {
	Schools int             // schools of the new import found in the previous one
	Edited  int             // of which had something added by hand
	New     []School        // schools not in the previous import
	Gone    []config.School // previous schools not in the new import: closed, or now outside the filters
}

// Keep carries into schools, the new import, what was added by hand to
// prev, the reviewed schools of the previous import (the schools_file in
// use), so that a monthly re-import keeps the review's work: paused,
// hashtags, a short name other than the one generated, aliases the import
// does not generate, and leaders whose address the templates did not
// make. What the register says (town, domain, context) is taken afresh;
// an edit to a generated value is not kept, and belongs in the register
// or the templates.
func Keep(schools []School, prev []config.School, templates []LeaderTemplate) Kept {
	var k Kept
	byID := make(map[string]*config.School, len(prev))
	for i := range prev {
		byID[prev[i].ID] = &prev[i]
	}
	inNew := make(map[string]bool, len(schools))
	for i := range schools {
		s := &schools[i]
		inNew[s.ID] = true
		p, ok := byID[s.ID]
		if !ok {
			k.New = append(k.New, *s)
			continue
		}
		k.Schools++
		if carry(s, p, templates) {
			k.Edited++
		}
	}
	for _, p := range prev {
		if !inNew[p.ID] {
			k.Gone = append(k.Gone, p)
		}
	}
	return k
}

// carry adds p's hand-made parts to s and reports whether there were any.
func carry(s *School, p *config.School, templates []LeaderTemplate) bool {
	genShort, genAliases := names(p.Name, p.Town)
	edited := false
	if p.Paused {
		s.Paused, edited = true, true
	}
	if p.ShortName != "" && foldKey(p.ShortName) != foldKey(genShort) && foldKey(p.ShortName) != foldKey(s.ShortName) {
		s.ShortName, edited = p.ShortName, true
	}
	// Aliases: those the import made of the previous name are not hand-made.
	var handAliases []string
	for _, a := range p.Aliases {
		if !slices.ContainsFunc(genAliases, func(g string) bool { return foldKey(g) == foldKey(a) }) {
			handAliases = append(handAliases, a)
		}
	}
	for _, add := range []struct {
		to   *[]string
		from []string
	}{{&s.Aliases, handAliases}, {&s.Hashtags, p.Hashtags}} {
		if union(add.to, add.from) {
			edited = true
		}
	}
	made := map[string]bool{}
	domain := ""
	if len(p.Domains) > 0 {
		domain = p.Domains[0]
	}
	for _, t := range templates {
		if a, err := fill(t.Template, domain, p.ID, slug(p.Name)); err == nil {
			made[strings.ToLower(a.Address)] = true
		}
	}
	for _, l := range p.Leaders {
		addr := strings.ToLower(strings.TrimSpace(l.Email))
		if made[addr] {
			continue
		}
		edited = true
		i := slices.IndexFunc(s.Leaders, func(n config.Leader) bool { return strings.EqualFold(n.Email, addr) })
		if i < 0 {
			s.Leaders = append(s.Leaders, l)
			continue
		}
		for _, r := range l.Roles {
			if !slices.Contains(s.Leaders[i].Roles, r) {
				s.Leaders[i].Roles = append(s.Leaders[i].Roles, r)
			}
		}
	}
	return edited
}

// union appends to *to the values of from it lacks (compared as the
// matcher would), and reports whether it appended any.
func union(to *[]string, from []string) bool {
	added := false
	for _, v := range from {
		k := foldKey(strings.TrimLeft(v, "#@"))
		if k == "" || slices.ContainsFunc(*to, func(o string) bool { return foldKey(strings.TrimLeft(o, "#@")) == k }) {
			continue
		}
		*to = append(*to, v)
		added = true
	}
	return added
}
