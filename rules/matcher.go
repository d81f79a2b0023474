package rules

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"

	"github.com/schoolwatch/schoolwatch/yamlpos"
)

// School is one configured school (plain data, copied from config by the
// caller).
type School struct {
	ID, Name, Town string
	Aliases        []string
	Hashtags       []string
	Domains        []string
	Context        []string // an ambiguous alias counts only near one of these or the town
}

// Rule is one configured keyword rule.
type Rule struct {
	ID, Query string
	Category  Category
	Severity  Severity
	// Guidance is the ID of the guidance section its findings carry.
	Guidance string
}

func fieldf(format string, args ...any) string { return fmt.Sprintf(format, args...) }

// SpanKind says what a Span matched.
type SpanKind int

const (
	SchoolSpan SpanKind = iota // a mention of the school
	RuleSpan                   // a term of the rule's query
)

func (k SpanKind) String() string {
	if k == SchoolSpan {
		return "school"
	}
	return "rule"
}

// Span is one piece of evidence: byte offsets [Start, End) into the text
// given to Match, and the pattern that matched there, e.g. "st marys
// folkestone" or "stab*".
type Span struct {
	Start, End int
	Kind       SpanKind
	Term       string
}

// Finding is one rule firing on an item that mentions one school. It
// carries its rule's category, severity and guidance section.
type Finding struct {
	School   string // School.ID
	Rule     string // Rule.ID
	Category string // a Category, as a string for the packages downstream
	Severity string // a Severity, likewise
	Guidance string
	Evidence []Span // school mention(s) and rule term(s), sorted by Start
}

// pattern is one normalised word sequence the scan looks for: an alias of
// one or more schools, a context term, or both.
type pattern struct {
	text    string // words joined by single spaces
	refs    []aliasRef
	ctx     bool  // a town or context term of some school
	collide int32 // next pattern with the same hash key, or -1
}

// aliasRef ties a pattern to a school.
type aliasRef struct {
	school int32
	kind   aliasKind
	amb    ambiguity
	source string
}

type schoolInfo struct {
	School
	ctx []int32 // pattern indices of the town and context terms, sorted
}

// trie value layout: low 31 bits = pattern index + 1 (0: no pattern ends
// here), top bit = some longer pattern continues from here.
const (
	trieCont = 1 << 31
	trieMask = trieCont - 1
)

const bloomBits = 1 << 20

// Matcher finds school mentions and evaluates rules. It is built once by
// Compile and is safe for concurrent use.
type Matcher struct {
	schools []schoolInfo
	pats    []pattern
	trie    map[uint64]uint32 // hash of 1..k leading words → trie value
	bloom   []uint64          // first-word filter in front of trie
	rules   []compiledRule
	terms   termIndex
	pool    sync.Pool // *scratch
}

// Compile builds a Matcher from the configured schools and rules. It
// returns a yamlpos.Errors listing every problem found, not just the first.
// Each names the config field it is about, such as "rules[2].query" or
// "schools[0].aliases[1]", by the index of the school or rule in the
// slices given; the caller knows the file and line.
func Compile(schools []School, rules []Rule) (*Matcher, error) {
	return CompileLists(schools, rules, nil)
}

// CompileLists is Compile with named term lists that the rules' queries
// refer to as @name.
func CompileLists(schools []School, rules []Rule, lists TermLists) (*Matcher, error) {
	var errs yamlpos.Errors
	bad := func(field, msg string) { errs = append(errs, yamlpos.Error{Field: field, Msg: msg}) }
	m := &Matcher{trie: make(map[uint64]uint32), bloom: make([]uint64, bloomBits/64)}
	ids := map[string]int{}
	index := map[string]int32{} // pattern text → index
	patFor := func(words []string) int32 {
		k := strings.Join(words, " ")
		if i, ok := index[k]; ok {
			return i
		}
		i := int32(len(m.pats))
		m.pats = append(m.pats, pattern{text: k, collide: -1})
		index[k] = i
		m.insert(words, i)
		return i
	}
	for si, s := range schools {
		if s.ID == "" {
			bad(fieldf("schools[%d].id", si), "missing")
		} else if prev, dup := ids[s.ID]; dup {
			bad(fieldf("schools[%d].id", si), fmt.Sprintf("duplicate id %q (also schools[%d])", s.ID, prev))
		} else {
			ids[s.ID] = si
		}
		info := schoolInfo{School: s}
		// Context is needed first (to drop short forms that are only the
		// town) but its problems are reported after the name's, in config
		// order.
		var ctxErrs yamlpos.Errors
		ctx := contextTerms(s, si, func(f, msg string) { ctxErrs = append(ctxErrs, yamlpos.Error{Field: f, Msg: msg}) })
		for _, c := range ctx {
			p := patFor(c)
			m.pats[p].ctx = true
			info.ctx = append(info.ctx, p)
		}
		slices.Sort(info.ctx)
		info.ctx = slices.Compact(info.ctx)
		for _, c := range schoolCandidates(s, si, ctx, bad) {
			p := patFor(c.words)
			ref := aliasRef{school: int32(si), kind: c.kind, amb: c.amb, source: c.source}
			refs := m.pats[p].refs
			if j := slices.IndexFunc(refs, func(r aliasRef) bool { return r.school == int32(si) }); j >= 0 {
				// The same words reached twice (say a configured alias that is
				// also a generated form): keep the more trusted reading.
				if ref.amb < refs[j].amb || ref.amb == refs[j].amb && ref.kind < refs[j].kind {
					refs[j] = ref
				}
				continue
			}
			m.pats[p].refs = append(refs, ref)
		}
		errs = append(errs, ctxErrs...)
		m.schools = append(m.schools, info)
	}
	for i := range m.pats {
		if refs := m.pats[i].refs; len(refs) > 1 {
			for j := range refs {
				refs[j].amb = ambShared
			}
		}
	}
	m.compileRules(rules, lists, bad)
	if len(errs) > 0 {
		return nil, errs
	}
	m.pool.New = func() any { return newScratch() }
	return m, nil
}

// insert adds the keys of every prefix of words to the trie, the last one
// pointing at pattern p.
func (m *Matcher) insert(words []string, p int32) {
	h := wordHash(words[0])
	m.bloom[bloomIndex(h)/64] |= 1 << (bloomIndex(h) % 64)
	for i := range words {
		if i > 0 {
			h = seqHash(h, wordHash(words[i]))
		}
		v := m.trie[h]
		if i < len(words)-1 {
			v |= trieCont
		} else if v&trieMask == 0 {
			v |= uint32(p + 1)
		} else {
			// Two patterns share a 64-bit key: chain them; the scan
			// verifies the words anyway.
			q := int32(v&trieMask) - 1
			for m.pats[q].collide >= 0 {
				q = m.pats[q].collide
			}
			m.pats[q].collide = p
		}
		m.trie[h] = v
	}
}

func bloomIndex(h uint64) uint64 { return (h * 0x9E3779B97F4A7C15) >> (64 - 20) }

func (m *Matcher) get() *scratch { return m.pool.Get().(*scratch) }

func (m *Matcher) put(sc *scratch) {
	sc.explain = false
	// Do not keep huge buffers from one outsized item alive forever.
	if cap(sc.tok.norm) > 1<<20 {
		sc.tok = newTokenizer()
	}
	m.pool.Put(sc)
}

// MentionedSchools returns the IDs of schools mentioned in text, in order of
// first mention. It does not evaluate rules, so it is cheaper than Match.
func (m *Matcher) MentionedSchools(text string) []string {
	sc := m.get()
	defer m.put(sc)
	m.scan(sc, text)
	if len(sc.hits) == 0 {
		return nil
	}
	m.resolve(sc)
	return m.schoolOrder(sc, nil)
}

// schoolOrder returns the mentioned school IDs ordered by first mention.
func (m *Matcher) schoolOrder(sc *scratch, idx *[]int32) []string {
	if len(sc.mentions) == 0 {
		return nil
	}
	type first struct{ school, at int32 }
	var fs []first
	for _, mn := range sc.mentions {
		if n := len(fs); n > 0 && fs[n-1].school == mn.school {
			continue // mentions are sorted by school, then start
		}
		fs = append(fs, first{mn.school, mn.start})
	}
	slices.SortStableFunc(fs, func(a, b first) int { return int(a.at - b.at) })
	out := make([]string, len(fs))
	for i, f := range fs {
		out[i] = m.schools[f.school].ID
		if idx != nil {
			*idx = append(*idx, f.school)
		}
	}
	return out
}

// Match reports one Finding per (school, rule) pair that fires on text,
// which should be the item's plain text (title + "\n\n" + body). A rule
// fires only on text that mentions a school, and is not evaluated at all
// otherwise. Findings are ordered by first mention of the school, then by
// rule order. Match returns nil when nothing matches.
func (m *Matcher) Match(text string) []Finding { return m.match(text, false) }

// MatchMentions is Match for the daemon: when no rule fires on a text that
// names schools, it returns one finding per school named, of category
// Mention from rule MentionRule with severity Info and the school's
// mention as evidence, so nothing said about a school goes unseen. A text
// that names no school costs what it costs Match.
func (m *Matcher) MatchMentions(text string) []Finding { return m.match(text, true) }

func (m *Matcher) match(text string, mentions bool) []Finding {
	sc := m.get()
	defer m.put(sc)
	m.scan(sc, text)
	if len(sc.hits) == 0 {
		return nil
	}
	m.resolve(sc)
	if len(sc.mentions) == 0 || len(m.rules) == 0 && !mentions {
		return nil
	}
	fired := m.evalRules(sc)
	if len(fired) == 0 && !mentions {
		return nil
	}
	var order []int32
	m.schoolOrder(sc, &order)
	toks := sc.tok.toks
	var allSchoolSpans [][]Span
	if len(order) > 1 && len(fired) > 0 {
		for _, s := range order {
			var spans []Span
			for _, mn := range sc.mentions {
				if mn.school == s {
					spans = append(spans, Span{Start: int(toks[mn.start].start), End: int(toks[mn.end-1].end)})
				}
			}
			allSchoolSpans = append(allSchoolSpans, spans)
		}
	}
	var out []Finding
	for _, s := range order {
		var schoolSpans []Span
		for _, mn := range sc.mentions {
			if mn.school == s {
				schoolSpans = append(schoolSpans, Span{
					Start: int(toks[mn.start].start), End: int(toks[mn.end-1].end),
					Kind: SchoolSpan, Term: m.pats[mn.pat].text,
				})
			}
		}
		if len(fired) == 0 {
			out = append(out, Finding{
				School: m.schools[s].ID, Rule: MentionRule, Category: string(Mention),
				Severity: string(Info), Evidence: schoolSpans,
			})
			continue
		}
		attached := false
		for _, f := range fired {
			if len(order) > 1 && !nearest(text, schoolSpans, f.spans, allSchoolSpans) {
				continue // the post tells the schools apart: this one is not what it is about
			}
			attached = true
			r := &m.rules[f.rule]
			ev := make([]Span, 0, len(schoolSpans)+len(f.spans))
			ev = append(ev, schoolSpans...)
			ev = append(ev, f.spans...)
			slices.SortStableFunc(ev, func(a, b Span) int {
				if a.Start != b.Start {
					return a.Start - b.Start
				}
				return a.End - b.End
			})
			out = append(out, Finding{
				School: m.schools[s].ID, Rule: r.ID, Category: string(r.Category),
				Severity: string(r.Severity), Guidance: r.Guidance, Evidence: ev,
			})
		}
		if !attached && mentions {
			out = append(out, Finding{
				School: m.schools[s].ID, Rule: MentionRule, Category: string(Mention),
				Severity: string(Info), Evidence: schoolSpans,
			})
		}
	}
	return out
}

// nearest reports whether a rule's evidence is about the school mentioned
// at mine rather than another school the post names (all holds every
// school's mentions, grouped by school). A school named in a sentence that
// holds the evidence is; when no school is, the one named closest to it
// is, with any school about as close. "Moved him from Brookfield to
// Harbourside last year. The bullying at Brookfield was out of control" is
// about Brookfield; "bullying at Brookfield and Harbourside" about both.
func nearest(text string, mine, evidence []Span, all [][]Span) bool {
	inSentence := func(ss []Span) bool {
		for _, x := range ss {
			for _, y := range evidence {
				if sameSentence(text, x.Start, y.Start) {
					return true
				}
			}
		}
		return false
	}
	if inSentence(mine) {
		return true
	}
	for _, other := range all {
		if inSentence(other) {
			return false // another school shares the evidence's sentence
		}
	}
	d := spanGap(mine, evidence)
	best := d
	for _, other := range all {
		best = min(best, spanGap(other, evidence))
	}
	return d <= max(2*best, best+15)
}

// sameSentence reports whether no sentence ends between byte offsets a
// and b of text.
func sameSentence(text string, a, b int) bool {
	if a > b {
		a, b = b, a
	}
	return !strings.ContainsAny(text[a:b], ".!?\n")
}

// spanGap is the smallest distance in bytes between a span of a and one of b.
func spanGap(a, b []Span) int {
	gap := math.MaxInt
	for _, x := range a {
		for _, y := range b {
			switch {
			case x.End <= y.Start:
				gap = min(gap, y.Start-x.End)
			case y.End <= x.Start:
				gap = min(gap, x.Start-y.End)
			default:
				return 0
			}
		}
	}
	return gap
}
