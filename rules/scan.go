package rules

import "slices"

// hit is a pattern found at tokens [start, end).
type hit struct {
	pat        int32
	start, end int32
}

// mention is an accepted school mention.
type mention struct {
	school     int32
	pat        int32
	start, end int32 // token range
}

// scratch holds the per-call buffers, pooled so that matching an item that
// mentions no school does not allocate.
type scratch struct {
	tok      *tokenizer
	hits     []hit
	ctxHits  []hit
	mentions []mention
	misses   []miss // filled only for Explain
	ev       evalScratch
	explain  bool
}

// miss is an ambiguous alias seen without context (for Explain).
type miss struct {
	school     int32
	pat        int32
	ref        aliasRef
	start, end int32
}

func newScratch() any { return &scratch{tok: newTokenizer()} }

// scan tokenises text and finds every pattern occurrence.
func (m *Matcher) scan(sc *scratch, text string) {
	t := sc.tok
	t.tokenize(text)
	sc.hits, sc.ctxHits = sc.hits[:0], sc.ctxHits[:0]
	toks := t.toks
	for i := range toks {
		if !m.inBloom(toks[i].hash) && (toks[i].alt == 0 || !m.inBloom(toks[i].alt)) {
			continue
		}
		var prev uint64
		for j := i; j < len(toks); j++ {
			key, alt := toks[j].hash, toks[j].alt
			if j > i {
				key = seqHash(prev, key)
				if alt != 0 {
					alt = seqHash(prev, alt)
				}
			}
			if alt != 0 {
				if v, ok := m.trie[alt]; ok && v&trieMask != 0 {
					m.record(sc, v, i, j, true)
				}
			}
			v, ok := m.trie[key]
			if !ok {
				break
			}
			if v&trieMask != 0 {
				m.record(sc, v, i, j, false)
			}
			if v&trieCont == 0 {
				break
			}
			prev = key
		}
	}
}

func (m *Matcher) inBloom(h uint64) bool {
	b := bloomIndex(h)
	return m.bloom[b/64]&(1<<(b%64)) != 0
}

// record verifies the patterns under trie value v against tokens [i, j]
// (with token j's possessive 's dropped when alt) and keeps the hits.
func (m *Matcher) record(sc *scratch, v uint32, i, j int, alt bool) {
	span := sc.tok.span(i, j+1)
	if alt {
		span = span[:len(span)-1]
	}
	for p := int32(v&trieMask) - 1; p >= 0; p = m.pats[p].collide {
		if m.pats[p].text != string(span) {
			continue
		}
		h := hit{pat: p, start: int32(i), end: int32(j + 1)}
		if len(m.pats[p].refs) > 0 {
			sc.hits = append(sc.hits, h)
		}
		if m.pats[p].ctx {
			sc.ctxHits = append(sc.ctxHits, h)
		}
	}
}

// resolve turns hits into accepted mentions: clear aliases count, ambiguous
// ones only with the school's town or a context term within ContextWindow
// words. A mention inside a longer mention of the same school is dropped.
func (m *Matcher) resolve(sc *scratch) {
	sc.mentions, sc.misses = sc.mentions[:0], sc.misses[:0]
	for _, h := range sc.hits {
		for _, r := range m.pats[h.pat].refs {
			if r.amb != ambClear && !m.hasContext(sc, r.school, h) {
				if sc.explain {
					sc.misses = append(sc.misses, miss{r.school, h.pat, r, h.start, h.end})
				}
				continue
			}
			sc.mentions = append(sc.mentions, mention{r.school, h.pat, h.start, h.end})
		}
	}
	if len(sc.mentions) < 2 {
		return
	}
	slices.SortFunc(sc.mentions, func(a, b mention) int {
		if a.school != b.school {
			return int(a.school - b.school)
		}
		if a.start != b.start {
			return int(a.start - b.start)
		}
		return int(b.end - a.end)
	})
	out := sc.mentions[:1]
	for _, mn := range sc.mentions[1:] {
		last := out[len(out)-1]
		if mn.school == last.school && mn.start >= last.start && mn.end <= last.end {
			continue
		}
		out = append(out, mn)
	}
	sc.mentions = out
}

func (m *Matcher) hasContext(sc *scratch, school int32, h hit) bool {
	ctx := m.schools[school].ctx
	for _, c := range sc.ctxHits {
		if c.start >= h.start && c.end <= h.end {
			continue // the alias's own words are not context
		}
		if c.end <= h.start-ContextWindow || c.start >= h.end+ContextWindow {
			continue
		}
		if _, ok := slices.BinarySearch(ctx, c.pat); ok {
			return true
		}
	}
	return false
}
