package rules

import (
	"fmt"
	"slices"
	"strings"
)

// hit is a pattern found at tokens [start, end).
type hit struct {
	pat        int32
	start, end int32
	poss       bool // matched with the last word's possessive 's dropped
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
	rejected []mention // names found and rejected (nameGoesOn, elsewhere)
	misses   []miss    // filled only for Explain
	ev       evalScratch
	explain  bool
}

// miss is an ambiguous alias seen without context, or a name rejected
// because it is part of something else (for Explain).
type miss struct {
	school     int32
	pat        int32
	ref        aliasRef
	start, end int32
	reason     string // set for a rejected name: why it is not the school
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
		h := hit{pat: p, start: int32(i), end: int32(j + 1), poss: alt}
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
	sc.mentions, sc.misses, sc.rejected = sc.mentions[:0], sc.misses[:0], sc.rejected[:0]
	for _, h := range sc.hits {
		tail := nameGoesOn(sc.tok, h)
		for _, r := range m.pats[h.pat].refs {
			why := tail
			if why != notRejected && m.containsContext(sc, r.school, h) {
				// "St Mary's Folkestone business manager": a name that
				// carries its own town is the school, whatever follows.
				why = notRejected
			} else if why == notRejected {
				why = m.elsewhere(sc, r.school, h)
			}
			if why == notRejected && schoolTalkCounts(r.amb) && generic(sc.tok, h) {
				why = rejectGeneric // "a Brookfield school", "an Oak Academy"
			}
			if why != notRejected {
				sc.rejected = append(sc.rejected, mention{r.school, h.pat, h.start, h.end})
				if sc.explain {
					sc.misses = append(sc.misses, miss{r.school, h.pat, r, h.start, h.end, why.describe(sc.tok, h.end)})
				}
				continue
			}
			if r.amb != ambClear && !m.hasContext(sc, r.school, h) && !(schoolTalkCounts(r.amb) && schoolTalk(sc.tok, h)) {
				if sc.explain {
					sc.misses = append(sc.misses, miss{r.school, h.pat, r, h.start, h.end, ""})
				}
				continue
			}
			sc.mentions = append(sc.mentions, mention{r.school, h.pat, h.start, h.end})
		}
	}
	// A short form inside a rejected longer name is rejected with it: the
	// "Harbourside" of "Harbourside Academy in Plymouth".
	if len(sc.rejected) > 0 {
		sc.mentions = slices.DeleteFunc(sc.mentions, func(mn mention) bool {
			return slices.ContainsFunc(sc.rejected, func(r mention) bool {
				return r.school == mn.school && mn.start >= r.start && mn.end <= r.end
			})
		})
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

// containsContext reports whether the name at h includes the school's town
// or one of its context terms ("Harbourside Dover", "St John's Maidstone").
func (m *Matcher) containsContext(sc *scratch, school int32, h hit) bool {
	ctx := m.schools[school].ctx
	for _, c := range sc.ctxHits {
		if c.start >= h.start && c.end <= h.end {
			if _, ok := slices.BinarySearch(ctx, c.pat); ok {
				return true
			}
		}
	}
	return false
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

// nameTails are words that, right after a school's name, make it part of
// the name of something else: a road, a surgery, an estate, a café.
var nameTails = map[string]bool{
	"road": true, "rd": true, "street": true, "lane": true, "avenue": true, "close": true, "drive": true,
	"way": true, "crescent": true, "estate": true, "estates": true, "park": true, "surgery": true,
	"dental": true, "dentist": true, "dentists": true, "pharmacy": true, "chemist": true, "cafe": true,
	"coffee": true, "brewery": true, "tap": true, "flats": true, "apartments": true, "care": true,
	"leisure": true, "centre": true, "center": true, "stadium": true, "garden": true, "gardens": true,
	"hotel": true, "pub": true, "inn": true, "bar": true, "restaurant": true, "takeaway": true,
	"church": true, "parish": true, "chapel": true, "regeneration": true, "carnival": true,
	"practice": true, "medical": true, "clinic": true, "vets": true, "veterinary": true, "hospital": true,
	"marina": true, "promenade": true, "retail": true, "shopping": true,
	"homes": true, "housing": true, "development": true, "car": true, "station": true,
	"ward": true, "surgeries": true, "salon": true, "barbers": true, "gym": true, "fc": true,
}

// businessTails follow "business" in the name of a place.
var businessTails = map[string]bool{"park": true, "centre": true, "center": true, "estate": true, "units": true, "village": true, "hub": true}

// nameOfTails follow "of" in a longer name: the Oak Academy of Dance.
var nameOfTails = map[string]bool{
	"dance": true, "dancing": true, "ballet": true, "football": true, "music": true, "performing": true,
	"arts": true, "art": true, "drama": true, "theatre": true, "gymnastics": true, "martial": true,
	"swimming": true, "tennis": true, "golf": true, "boxing": true, "karate": true, "stage": true,
	"motoring": true, "driving": true, "hair": true, "beauty": true, "languages": true, "english": true,
}

// A rejection says why a name found in a text is not the school.
type rejection uint8

const (
	notRejected      rejection = iota
	rejectLongerName           // "Park View Surgery", "Oak Academy of Dance"
	rejectElsewhere            // "Harbourside Academy in Plymouth"
	rejectGeneric              // "a Brookfield school": one of several of that name
)

// generic reports whether the name at h is used as a kind of school:
// "a Brookfield school", "an Oak academy".
func generic(t *tokenizer, h hit) bool {
	if h.start == 0 || int(h.end) >= len(t.toks) {
		return false
	}
	a, next := string(t.wordAt(int(h.start)-1)), string(t.wordAt(int(h.end)))
	return (a == "a" || a == "an") && (next == "school" || next == "academy" || next == "primary" || next == "secondary" || next == "college")
}

// describe says what the rejection of the name at tokens [start, end) is,
// for explain.
func (r rejection) describe(t *tokenizer, end int32) string {
	n := int(end)
	switch r {
	case rejectLongerName:
		if string(t.wordAt(n)) == "of" {
			return fmt.Sprintf("part of a longer name (followed by \"of %s\")", t.wordAt(n+1))
		}
		return fmt.Sprintf("part of a longer name (followed by %q)", t.wordAt(n))
	case rejectElsewhere:
		p := n + 1
		if string(t.wordAt(n)) != "in" {
			p = n
		}
		return fmt.Sprintf("a school of that name elsewhere (%q follows)", t.src[t.toks[n].start:t.toks[p].end])
	case rejectGeneric:
		return "one of several of that name (\"a\" before an ambiguous alias)"
	}
	return ""
}

// nameGoesOn reports whether the name at h is part of a longer proper
// name ("Park View Surgery", "Oak Academy of Dance").
func nameGoesOn(t *tokenizer, h hit) rejection {
	n := int(h.end)
	if n >= len(t.toks) || h.poss {
		// "SJCC's car park" is the school's own car park.
		return notRejected
	}
	next := string(t.wordAt(n))
	if nameTails[next] {
		return rejectLongerName
	}
	if next == "business" && n+1 < len(t.toks) && businessTails[string(t.wordAt(n+1))] {
		return rejectLongerName // "Brookfield Business Park", not its business manager
	}
	if string(t.wordAt(n)) == "of" && n+1 < len(t.toks) && nameOfTails[string(t.wordAt(n+1))] {
		return rejectLongerName
	}
	return notRejected
}

// notPlaces are capitalised words after "in" that are not places.
var notPlaces = map[string]bool{
	"january": true, "february": true, "march": true, "april": true, "may": true, "june": true, "july": true,
	"august": true, "september": true, "october": true, "november": true, "december": true,
	"monday": true, "tuesday": true, "wednesday": true, "thursday": true, "friday": true, "saturday": true,
	"sunday": true, "year": true, "reception": true, "the": true, "a": true, "my": true, "our": true,
	"their": true, "his": true, "her": true, "this": true, "that": true, "term": true, "spring": true,
	"summer": true, "autumn": true, "winter": true, "easter": true, "christmas": true, "half": true,
	"class": true, "form": true, "i": true, "it": true, "english": true, "maths": true, "science": true,
	"pe": true, "art": true, "music": true, "drama": true, "history": true, "geography": true, "french": true,
	"spanish": true, "german": true, "rs": true, "re": true, "ks1": true, "ks2": true, "ks3": true, "ks4": true,
	"sixth": true, "key": true, "nursery": true, "court": true, "assembly": true, "person": true,
	"mr": true, "mrs": true, "ms": true, "miss": true, "dr": true, "sir": true, "kent": true, "uk": true,
	"england": true, "we": true, "they": true, "he": true, "she": true, "you": true, "but": true, "and": true,
	"so": true, "which": true, "where": true, "who": true, "is": true, "was": true, "has": true, "had": true,
	"ofsted": true, "pupils": true, "parents": true, "staff": true, "students": true, "kids": true,
	"headteacher": true, "head": true, "principal": true, "police": true, "please": true, "thanks": true,
}

// elsewhere reports whether the mention of school at h is a same-named
// school in another place: the name is followed by "in" and a capitalised
// word, or by a comma and a capitalised word ("Harbourside Academy in
// Plymouth", "The Grange School, Oxford"), and that word is not one of the
// school's town or context terms nor a month, a year group or the like.
func (m *Matcher) elsewhere(sc *scratch, school int32, h hit) rejection {
	t := sc.tok
	n := int(h.end)
	if n >= len(t.toks) {
		return notRejected
	}
	if m.containsContext(sc, school, h) {
		return notRejected // "Harbourside Dover, U14 final"
	}
	p := n
	switch {
	case string(t.wordAt(n)) == "in" && n+1 < len(t.toks):
		p = n + 1
	case strings.HasPrefix(strings.TrimLeft(t.src[t.toks[n-1].end:t.toks[n].start], " "), ","):
		// "The Grange School, Oxford": a place closes the phrase. "At
		// Hillcrest, Mum said" goes on with a lower-case word.
		if p+1 < len(t.toks) {
			gap := strings.TrimSpace(t.src[t.toks[p].end:t.toks[p+1].start])
			if c := t.src[t.toks[p+1].start]; gap == "" && (c < 'A' || c > 'Z') {
				return notRejected
			}
		}
	default:
		return notRejected
	}
	if c := t.src[t.toks[p].start]; c < 'A' || c > 'Z' || notPlaces[string(t.wordAt(p))] || strings.ContainsAny(string(t.wordAt(p)), "0123456789") {
		return notRejected
	}
	ctx := m.schools[school].ctx
	for _, c := range sc.ctxHits {
		if c.start == int32(p) {
			if _, ok := slices.BinarySearch(ctx, c.pat); ok {
				return notRejected
			}
		}
	}
	return rejectElsewhere
}

// schoolTalkWords are words that show a text is talking about a school.
var schoolTalkWords = map[string]bool{
	"school": true, "schools": true, "pupil": true, "pupils": true, "student": true, "students": true,
	"teacher": true, "teachers": true, "headteacher": true, "head": true, "principal": true, "staff": true,
	"parents": true, "pta": true, "ofsted": true, "uniform": true, "blazer": true, "gcse": true, "gcses": true,
	"sats": true, "exams": true, "assembly": true, "playground": true, "classroom": true, "detention": true,
	"nativity": true, "governors": true, "senco": true, "dsl": true, "homework": true, "lessons": true,
	"year": true, "reception": true, "sixth": true, "academy": true, "primary": true, "trust": true,
	"netball": true, "kids": true, "class": true, "term": true, "excluded": true, "exclusion": true,
	"kid": true, "son": true, "daughter": true, "child": true, "children": true, "lad": true, "form": true,
	"pe": true, "sports": true, "drama": true, "debate": true, "dinners": true, "gates": true, "playground's": true,
}

// schoolTalkCounts says which weak aliases a text about schools settles:
// one word ("Brookfield") or common words ("Park View"), once nameGoesOn
// has ruled out the road, the surgery and the café. A dedication ("St
// Mary's") is shared by hundreds of schools, and a name two configured
// schools share is not settled by talk of schools; both still need the
// town.
func schoolTalkCounts(a ambiguity) bool { return a == ambSingleWord || a == ambCommon }

// schoolTalk reports whether a word about schools is within ContextWindow
// words of h.
func schoolTalk(t *tokenizer, h hit) bool {
	from, to := max(int(h.start)-ContextWindow, 0), min(int(h.end)+ContextWindow, len(t.toks))
	for i := from; i < to; i++ {
		if i >= int(h.start) && i < int(h.end) {
			continue
		}
		if schoolTalkWords[string(t.wordAt(i))] {
			return true
		}
	}
	return false
}
