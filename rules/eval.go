package rules

import (
	"bytes"
	"slices"
	"strings"
)

// compiledRule is a Rule with its parsed query, terms resolved to indices
// into the Matcher's term table.
type compiledRule struct {
	Rule
	query *Query
	root  *cnode
}

// cnode is a query node ready for evaluation.
type cnode struct {
	op   Op
	term int32
	kids []*cnode
	n    int
}

// termIndex finds the occurrences of every rule term in a tokenised item
// with a few map lookups per word: one for terms whose first word is exact,
// and one per distinct prefix length for terms that start with a prefix.
type termIndex struct {
	// fuzzy indexes the terms whose first word is long (minFuzzy letters
	// or more) under the hash of that word with each letter left out, so a
	// misspelling one edit away ("harrassment") is found by leaving
	// letters out of the post's word too (symmetric deletion).
	fuzzy      map[uint64][]int32
	terms      []Term
	exact      map[uint64][]int32 // first word hash → terms
	prefix     map[uint64][]int32 // hash of the first word's prefix → terms
	prefixLens []int
}

func termKey(t Term) string {
	var b strings.Builder
	for i, w := range t.Words {
		b.WriteString(w)
		if t.Prefix[i] {
			b.WriteByte('*')
		}
		b.WriteByte(' ')
	}
	return b.String()
}

func (m *Matcher) compileRules(rules []Rule, lists TermLists, bad func(field, msg string)) {
	m.terms = termIndex{exact: map[uint64][]int32{}, prefix: map[uint64][]int32{}, fuzzy: map[uint64][]int32{}}
	keys := map[string]int32{}
	ids := map[string]int{}
	for ri, r := range rules {
		if r.ID == "" {
			bad(fieldf("rules[%d].id", ri), "missing")
		} else if prev, dup := ids[r.ID]; dup {
			bad(fieldf("rules[%d].id", ri), "duplicate id "+quote(r.ID)+fieldf(" (also rules[%d])", prev))
		} else {
			ids[r.ID] = ri
		}
		q, err := ParseQueryLists(r.Query, lists)
		if err != nil {
			bad(fieldf("rules[%d].query", ri), err.Error())
			continue
		}
		var build func(*Query) *cnode
		build = func(q *Query) *cnode {
			n := &cnode{op: q.Op, n: q.N, term: -1}
			if q.Op == OpTerm {
				k := termKey(q.Term)
				id, ok := keys[k]
				if !ok {
					id = int32(len(m.terms.terms))
					keys[k] = id
					m.terms.add(q.Term, id)
				}
				n.term = id
			}
			for _, kid := range q.Kids {
				n.kids = append(n.kids, build(kid))
			}
			return n
		}
		m.rules = append(m.rules, compiledRule{Rule: r, query: q, root: build(q)})
	}
}

func quote(s string) string { return `"` + s + `"` }

func (ti *termIndex) add(t Term, id int32) {
	ti.terms = append(ti.terms, t)
	if !t.Prefix[0] {
		h := wordHash(t.Words[0])
		ti.exact[h] = append(ti.exact[h], id)
		if w := t.Words[0]; len(w) >= minFuzzy && asciiLetters(w) {
			for _, d := range deletions(w) {
				if !slices.Contains(ti.fuzzy[d], id) {
					ti.fuzzy[d] = append(ti.fuzzy[d], id)
				}
			}
			if !slices.Contains(ti.fuzzy[h], id) {
				ti.fuzzy[h] = append(ti.fuzzy[h], id)
			}
		}
		for _, f := range t.Forms[0] {
			h := wordHash(f)
			if !slices.Contains(ti.exact[h], id) {
				ti.exact[h] = append(ti.exact[h], id)
			}
		}
		return
	}
	h := wordHash(t.Words[0])
	ti.prefix[h] = append(ti.prefix[h], id)
	if !slices.Contains(ti.prefixLens, len(t.Words[0])) {
		ti.prefixLens = append(ti.prefixLens, len(t.Words[0]))
		slices.Sort(ti.prefixLens)
	}
}

// tspan is a term occurrence: tokens [start, end).
type tspan struct{ start, end int32 }

// evalScratch holds per-item term occurrences.
type evalScratch struct {
	occ [][]tspan // per term
}

// fired is a rule that fired, with its evidence as byte spans.
type fired struct {
	rule  int
	spans []Span
}

// findTerms fills sc.ev.occ with every occurrence of every term.
func (m *Matcher) findTerms(sc *scratch) {
	ti := &m.terms
	ev := &sc.ev
	if len(ev.occ) < len(ti.terms) {
		ev.occ = make([][]tspan, len(ti.terms))
	}
	for i := range ev.occ {
		ev.occ[i] = ev.occ[i][:0]
	}
	t := sc.tok
	for i := range t.toks {
		for _, id := range ti.exact[t.toks[i].hash] {
			m.tryTerm(sc, id, i)
		}
		if alt := t.toks[i].alt; alt != 0 {
			for _, id := range ti.exact[alt] {
				m.tryTerm(sc, id, i)
			}
		}
		w := t.wordAt(i)
		if len(w) >= minFuzzy-1 && len(ti.fuzzy) > 0 {
			m.tryFuzzy(sc, w, i)
		}
		for _, l := range ti.prefixLens {
			if l > len(w) {
				break
			}
			for _, id := range ti.prefix[wordHashBytes(w[:l])] {
				m.tryTerm(sc, id, i)
			}
		}
	}
}

// tryTerm records term id at token i if all its words match there.
func (m *Matcher) tryTerm(sc *scratch, id int32, i int) {
	term := &m.terms.terms[id]
	t := sc.tok
	if i+len(term.Words) > len(t.toks) {
		return
	}
	for k, w := range term.Words {
		if term.Prefix[k] {
			if !bytes.HasPrefix(t.wordAt(i+k), []byte(w)) {
				return
			}
		} else if !t.matchWord(i+k, w) && !slices.ContainsFunc(term.Forms[k], func(f string) bool { return t.matchWord(i+k, f) }) &&
			!(len(w) >= minFuzzy && oneEdit(t.wordAt(i+k), w)) {
			return
		}
	}
	if negated(t, i) {
		return // "no complaints at all", "nobody was hurt"
	}
	if n := len(sc.ev.occ[id]); n > 0 && sc.ev.occ[id][n-1].start == int32(i) {
		return // already found through the word's other form
	}
	sc.ev.occ[id] = append(sc.ev.occ[id], tspan{int32(i), int32(i + len(term.Words))})
}

// evalRules evaluates every rule against the tokenised item.
func (m *Matcher) evalRules(sc *scratch) []fired {
	m.findTerms(sc)
	var out []fired
	for ri := range m.rules {
		ok, spans := m.eval(sc, m.rules[ri].root)
		if !ok {
			continue
		}
		out = append(out, fired{rule: ri, spans: m.evidence(sc, spans)})
	}
	return out
}

// termSpan is a term occurrence kept as evidence.
type termSpan struct {
	tspan
	term int32
}

// eval returns whether n holds and the term occurrences that make it hold.
// NOT contributes no evidence; NEAR keeps only the occurrences that are
// within distance of one on the other side.
func (m *Matcher) eval(sc *scratch, n *cnode) (bool, []termSpan) {
	switch n.op {
	case OpTerm:
		occ := sc.ev.occ[n.term]
		if len(occ) == 0 {
			return false, nil
		}
		out := make([]termSpan, len(occ))
		for i, o := range occ {
			out[i] = termSpan{o, n.term}
		}
		return true, out
	case OpNot:
		ok, _ := m.eval(sc, n.kids[0])
		return !ok, nil
	case OpAnd:
		var all []termSpan
		for _, k := range n.kids {
			ok, s := m.eval(sc, k)
			if !ok {
				return false, nil
			}
			all = append(all, s...)
		}
		return true, all
	case OpOr:
		var all []termSpan
		any := false
		for _, k := range n.kids {
			if ok, s := m.eval(sc, k); ok {
				any = true
				all = append(all, s...)
			}
		}
		return any, all
	case OpNear:
		okA, a := m.eval(sc, n.kids[0])
		if !okA {
			return false, nil
		}
		okB, b := m.eval(sc, n.kids[1])
		if !okB {
			return false, nil
		}
		keepA := make([]bool, len(a))
		keepB := make([]bool, len(b))
		found := false
		for i, x := range a {
			for j, y := range b {
				if x.tspan == y.tspan {
					continue // one word cannot be both sides
				}
				if gap(x.tspan, y.tspan) <= n.n {
					keepA[i], keepB[j], found = true, true, true
				}
			}
		}
		if !found {
			return false, nil
		}
		var out []termSpan
		for i, x := range a {
			if keepA[i] {
				out = append(out, x)
			}
		}
		for j, y := range b {
			if keepB[j] {
				out = append(out, y)
			}
		}
		return true, out
	}
	return false, nil
}

// gap is the number of words between two occurrences (0 if they touch or
// overlap).
func gap(a, b tspan) int {
	switch {
	case a.end <= b.start:
		return int(b.start - a.end)
	case b.end <= a.start:
		return int(a.start - b.end)
	}
	return 0
}

// evidence converts term occurrences to sorted, de-duplicated byte spans.
func (m *Matcher) evidence(sc *scratch, ts []termSpan) []Span {
	toks := sc.tok.toks
	out := make([]Span, 0, len(ts))
	for _, s := range ts {
		out = append(out, Span{
			Start: int(toks[s.start].start), End: int(toks[s.end-1].end),
			Kind: RuleSpan, Term: m.terms.terms[s.term].Text,
		})
	}
	slices.SortFunc(out, func(a, b Span) int {
		if a.Start != b.Start {
			return a.Start - b.Start
		}
		if a.End != b.End {
			return a.End - b.End
		}
		return strings.Compare(a.Term, b.Term)
	})
	// One piece of text is one piece of evidence, even when two terms
	// match it ("pupil" through its inflection, and "pupils").
	return slices.CompactFunc(out, func(a, b Span) bool { return a.Start == b.Start && a.End == b.End })
}

// negators, one or two words before a term, say the post denies it: "no
// complaints at all", "not a single threat", "without any bullying".
var negators = map[string]bool{
	"no": true, "not": true, "never": true, "without": true, "zero": true, "nobody": true,
	"nothing": true, "none": true, "isnt": true, "wasnt": true, "arent": true, "werent": true,
}

// negated reports whether the term at token i is denied by a negator just
// before it ("no complaints", "not a threat"). A negator that is part of
// the term itself ("not safe at home", "no one listens") does not count.
func negated(t *tokenizer, i int) bool {
	for k := i - 1; k >= 0 && k >= i-2; k-- {
		if negators[string(t.wordAt(k))] {
			return true
		}
	}
	return false
}

// minFuzzy is the shortest rule word a one-letter misspelling still
// matches ("harrassment", "inapropriate"): shorter words are too close to
// other words. At 7 letters the corpus's training posts lost precision
// (0.643 to 0.633) for no recall; at 9 they did not.
const minFuzzy = 9

// deletions returns the hashes of w with each one letter left out.
func deletions(w string) []uint64 {
	out := make([]uint64, 0, len(w))
	for i := range len(w) {
		out = append(out, wordHash(w[:i]+w[i+1:]))
	}
	return out
}

// tryFuzzy tries the long terms within one edit of the post's word w at
// token i: w itself and w with each letter left out are looked up in the
// deletion index, and tryTerm checks the words properly.
func (m *Matcher) tryFuzzy(sc *scratch, w []byte, i int) {
	fz := m.terms.fuzzy
	for _, id := range fz[wordHashBytes(w)] {
		m.tryTerm(sc, id, i)
	}
	for k := range w {
		// The hash of w without letter k, computed without allocating.
		h := uint64(fnvOffset)
		for j, c := range w {
			if j != k {
				h ^= uint64(c)
				h *= fnvPrime
			}
		}
		for _, id := range fz[h] {
			m.tryTerm(sc, id, i)
		}
	}
}

// oneEdit reports whether a and b differ by exactly one insertion,
// deletion, substitution or swap of neighbouring letters.
func oneEdit(a []byte, b string) bool {
	la, lb := len(a), len(b)
	switch {
	case la == lb:
		diff := -1
		for i := range la {
			if a[i] != b[i] {
				if diff >= 0 {
					// a swap of neighbours: ab/ba, the rest equal
					return diff == i-1 && a[diff] == b[i] && a[i] == b[diff] && string(a[i+1:]) == b[i+1:]
				}
				diff = i
			}
		}
		return diff >= 0
	case la == lb+1:
		for i := range lb {
			if a[i] != b[i] {
				return string(a[i+1:]) == b[i:]
			}
		}
		return true
	case lb == la+1:
		for i := range la {
			if a[i] != b[i] {
				return string(a[i:]) == b[i+1:]
			}
		}
		return true
	}
	return false
}
