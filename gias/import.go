package gias

import (
	"cmp"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/schoolwatch/schoolwatch/config"
)

// Options choose the establishments an import keeps and shape the schools
// made from them.
type Options struct {
	// LAs are "LA (name)" values to keep, compared without regard to case;
	// none keeps every local authority. A name no row has is an error.
	LAs []string
	// Phases are "PhaseOfEducation (name)" values to keep ("Primary",
	// "Secondary", "All-through"...), likewise.
	Phases []string
	// Leaders make each school's leaders.
	Leaders []LeaderTemplate
}

// School is one imported school and the row it came from.
type School struct {
	config.School
	From Establishment
}

// Import is what Read made of a register.
type Import struct {
	// Schools are the kept establishments, by URN.
	Schools []School
	// Warnings are every row skipped and every school imported without
	// something (a leader whose template it cannot fill, a website that is
	// not a web address), in line order; then those about the file.
	Warnings []Warning
	Rows     int    // rows read, malformed ones included
	Encoding string // of the text: ASCII, UTF8, Windows1252 or Mixed
}

// Open establishment statuses, lower-case and without commas.
var openStatuses = []string{"open", "open but proposed to close"}

// IsOpen reports whether status is "Open" or "Open, but proposed to
// close"; "Closed" and "Proposed to open" are not.
func IsOpen(status string) bool {
	s := strings.Join(strings.Fields(strings.ToLower(strings.ReplaceAll(status, ",", " "))), " ")
	return slices.Contains(openStatuses, s)
}

// Read reads a GIAS establishment CSV and returns its open establishments
// in opts.LAs and opts.Phases as schools. The error is for a file that
// cannot be read as the register at all, or a named LA or phase that no
// row has (a typo would otherwise import nothing, silently); a problem
// with a row is a warning.
func Read(r io.Reader, opts Options) (*Import, error) {
	sc, err := NewScanner(r)
	if err != nil {
		return nil, err
	}
	if len(opts.Phases) > 0 && !sc.Has("PhaseOfEducation (name)") {
		return nil, fmt.Errorf("-phase: the header has no PhaseOfEducation (name) column")
	}
	las := newFilter(opts.LAs)
	phases := newFilter(opts.Phases)
	seenLA, seenPhase := map[string]string{}, map[string]string{}
	imp := &Import{}
	var warns []Warning
	byURN := map[string]int{}
	for sc.Scan() {
		e := sc.Establishment()
		seenLA[strings.ToLower(e.LA)] = e.LA
		seenPhase[strings.ToLower(e.Phase)] = e.Phase
		if !IsOpen(e.Status) || !las.keeps(e.LA) || !phases.keeps(e.Phase) {
			continue
		}
		switch {
		case !isURN(e.URN):
			warns = append(warns, Warning{Line: e.Line, Msg: fmt.Sprintf("row skipped: URN %q is not a number", e.URN)})
			continue
		case e.Name == "":
			warns = append(warns, Warning{Line: e.Line, URN: e.URN, Msg: "row skipped: no EstablishmentName"})
			continue
		}
		if i, dup := byURN[e.URN]; dup {
			warns = append(warns, Warning{Line: e.Line, URN: e.URN, Msg: fmt.Sprintf("row skipped: the URN is on line %d already", imp.Schools[i].From.Line)})
			continue
		}
		byURN[e.URN] = len(imp.Schools)
		imp.Schools = append(imp.Schools, School{From: e})
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if err := las.unknown("-la", "LA (name)", seenLA); err != nil {
		return nil, err
	}
	if err := phases.unknown("-phase", "PhaseOfEducation (name)", seenPhase); err != nil {
		return nil, err
	}
	imp.Rows = sc.Rows()
	imp.Encoding = sc.Encoding()
	warns = append(warns, sc.Warnings()...)
	warns = append(warns, imp.build(opts.Leaders)...)
	slices.SortStableFunc(warns, func(a, b Warning) int { return cmp.Compare(a.Line, b.Line) })
	for _, c := range sc.Missing() {
		warns = append(warns, Warning{Msg: "the header has no " + c + " column" + missingEffect[c]})
	}
	imp.Warnings = warns
	return imp, nil
}

var missingEffect = map[string]string{
	"SchoolWebsite": ": no school gets a domain, nor a leader from a {domain} template",
	"Town":          ": no school gets a town",
}

func isURN(s string) bool {
	if s == "" || len(s) > 9 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// build fills in every kept school from its row: names, places, domain,
// leaders. A domain or generated alias several schools share is dropped
// first, since it names none of them.
func (imp *Import) build(leaders []LeaderTemplate) []Warning {
	slices.SortFunc(imp.Schools, func(a, b School) int {
		x, _ := strconv.Atoi(a.From.URN)
		y, _ := strconv.Atoi(b.From.URN)
		return cmp.Compare(x, y)
	})
	var warns []Warning
	domainOwners := map[string][]int{}
	for i := range imp.Schools {
		s := &imp.Schools[i]
		e := s.From
		s.ID = e.URN
		s.Name = e.Name
		s.Town = tidyCaps(e.Town)
		s.Context = places(e)
		if d, ok := domainOf(e.Website); ok && d != "" {
			s.Domains = []string{d}
			domainOwners[d] = append(domainOwners[d], i)
		} else if !ok {
			warns = append(warns, Warning{Line: e.Line, URN: e.URN, Msg: fmt.Sprintf("SchoolWebsite %q is not a web address: no domain", e.Website)})
		}
		s.ShortName, s.Aliases = names(e.Name, s.Town)
	}
	for _, d := range slices.Sorted(maps.Keys(domainOwners)) {
		owners := domainOwners[d]
		if len(owners) < 2 {
			continue
		}
		var urns []string
		for _, i := range owners {
			imp.Schools[i].Domains = nil
			urns = append(urns, imp.Schools[i].ID)
		}
		warns = append(warns, Warning{Line: imp.Schools[owners[0]].From.Line, Msg: fmt.Sprintf("%s is the website of %d schools (URN %s): it is left out of their domains and leader addresses", d, len(owners), abbreviate(urns, 8))})
	}
	dropShared(imp.Schools)
	for i := range imp.Schools {
		warns = append(warns, fillLeaders(&imp.Schools[i], leaders)...)
	}
	return warns
}

// dropShared removes short names and aliases that more than one school
// was given: "Dover Grammar" for both Dover grammar schools names neither.
func dropShared(schools []School) {
	count := map[string]int{}
	for _, s := range schools {
		seen := map[string]bool{}
		for _, a := range append([]string{s.ShortName}, s.Aliases...) {
			if k := foldKey(a); k != "" && !seen[k] {
				seen[k] = true
				count[k]++
			}
		}
	}
	for i := range schools {
		s := &schools[i]
		if count[foldKey(s.ShortName)] > 1 {
			s.ShortName = ""
		}
		s.Aliases = slices.DeleteFunc(s.Aliases, func(a string) bool { return count[foldKey(a)] > 1 })
		if len(s.Aliases) == 0 {
			s.Aliases = nil
		}
	}
}

// filter is a set of values to keep, lower-case; empty keeps everything.
type filter []string

func (f filter) keeps(v string) bool {
	return len(f) == 0 || slices.Contains(f, strings.ToLower(v))
}

// unknown returns an error naming the values in f no row has.
func (f filter) unknown(flag, col string, seen map[string]string) error {
	for _, v := range f {
		if _, ok := seen[v]; ok {
			continue
		}
		var near []string
		for k, orig := range seen {
			if orig != "" && (strings.Contains(k, v) || strings.Contains(v, k)) {
				near = append(near, orig)
			}
		}
		slices.Sort(near)
		hint := ""
		if len(near) > 0 {
			hint = fmt.Sprintf(" (did you mean %s?)", strings.Join(quoteAll(near), " or "))
		}
		return fmt.Errorf("%s %q: no row's %s is that%s", flag, v, col, hint)
	}
	return nil
}

func quoteAll(vs []string) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = strconv.Quote(v)
	}
	return out
}

func newFilter(vs []string) filter {
	var f filter
	for _, v := range vs {
		if v = strings.ToLower(strings.Join(strings.Fields(v), " ")); v != "" && !slices.Contains(f, v) {
			f = append(f, v)
		}
	}
	return f
}

// abbreviate lists up to n of vs, then how many more.
func abbreviate(vs []string, n int) string {
	if len(vs) <= n {
		return strings.Join(vs, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(vs[:n], ", "), len(vs)-n)
}
