package rules

import (
	"slices"
	"strings"
)

// ContextWindow is how many words either side of an ambiguous alias are
// searched for the school's town or one of its context terms.
const ContextWindow = 12

// aliasKind says where an alias came from; it decides how far the alias is
// trusted and is shown by Explain.
type aliasKind uint8

const (
	kindName      aliasKind = iota // the school's configured name
	kindAlias                      // a configured alias
	kindHashtag                    // a configured hashtag, split or joined
	kindDomain                     // a configured web domain
	kindGenerated                  // St/Saint, C of E/CE, RC forms of the above
	kindStripped                   // the name without "School", "Academy"…
	kindJoined                     // words run together, as in #stmarysfolkestone
)

var kindNames = [...]string{"name", "alias", "hashtag", "domain", "generated alias", "short form", "joined form"}

func (k aliasKind) String() string { return kindNames[k] }

// ambiguity says why an alias needs context; ambClear means it does not.
type ambiguity uint8

const (
	ambClear      ambiguity = iota
	ambShared               // two or more schools have it
	ambSingleWord           // one word alone
	ambCommon               // made only of common or school-type words
	ambDedication           // a church dedication such as "St Mary's"
)

var ambNames = [...]string{"", "shared by several schools", "a single word", "a common phrase", "a church dedication many schools share"}

func (a ambiguity) String() string { return ambNames[a] }

// candidate is one alias of one school before the shared table is built.
type candidate struct {
	words  []string
	kind   aliasKind
	source string    // what the user wrote, or the name it was derived from
	amb    ambiguity // weakness of the words (a joined form inherits its source's)
}

func newCandidate(words []string, kind aliasKind, source string) candidate {
	c := candidate{words, kind, source, weakness(words, kind)}
	if kind == kindAlias && c.amb == ambSingleWord && initialism(source) && !commonWords[words[0]] {
		c.amb = ambClear // "WGGS", "SJCC": nobody writes those by chance
	}
	return c
}

// initialism reports whether a configured alias is written as capitals
// (and digits), three to eight of them: an abbreviation people use for
// one school, not a word.
func initialism(alias string) bool {
	a := strings.TrimSpace(alias)
	caps := 0
	for _, r := range a {
		switch {
		case r >= 'A' && r <= 'Z':
			caps++
		case r >= '0' && r <= '9':
		default:
			return false
		}
	}
	return caps >= 3 && len(a) <= 8
}

// joined returns the words of c run together ("stmarysfolkestone"), as
// lower-case hashtags and domains write them; it is as ambiguous as c.
func joined(c candidate) candidate {
	return candidate{[]string{strings.Join(c.words, "")}, kindJoined, c.source, c.amb}
}

// weakness classifies an alias by its words alone (sharing is decided once
// every school is known). Domains and multi-word hashtags are deliberate,
// specific spellings and are never weak.
func weakness(words []string, kind aliasKind) ambiguity {
	if kind == kindDomain {
		return ambClear
	}

	if kind == kindHashtag && len(words) > 1 {
		return ambClear
	}
	if len(words) == 1 {
		return ambSingleWord
	}
	distinct, dedication := 0, false
	for _, w := range words {
		if dedicationWords[w] {
			dedication = true
		}
		if !schoolWords[w] && !commonWords[w] && !dedicationWords[w] {
			distinct++
		}
	}
	switch {
	case distinct == 0 && (kind == kindName || kind == kindStripped && !dedication) && officialTypeWords[words[len(words)-1]] && slices.ContainsFunc(words, func(w string) bool { return !schoolWords[w] }):
		// A school's full official name counts wherever it appears, even
		// made of common words ("Harbour View School"): nobody writes it
		// out by accident. A dedication ("St Mary's ... Primary School")
		// still needs its town, and a name inside a longer proper name
		// ("... of Dance") or followed by another place is rejected where
		// it is found (nameGoesOn, elsewhere). So does a short form that
		// still ends in its type ("Park View Primary"), unless it is a
		// dedication ("St Mary's Primary"), which hundreds of schools share.
		return ambClear
	case distinct == 0:
		return ambCommon
	case distinct == 1 && dedication:
		return ambDedication
	}
	return ambClear
}

// Denomination spellings that mean the same thing. Each group's first entry
// is canonical; every alias containing one spelling is also generated with
// the others, and with the denomination left out.
var denominations = [][][]string{
	{{"church", "of", "england"}, {"c", "of", "e"}, {"ce"}, {"cofe"}, {"c", "e"}},
	{{"roman", "catholic"}, {"rc"}, {"r", "c"}, {"catholic"}},
}

// streetAbbrev are the abbreviations of street words in names and
// addresses ("Harbour Road" is also "Harbour Rd").
var streetAbbrev = map[string]string{
	"road": "rd", "avenue": "ave", "lane": "ln", "drive": "dr", "close": "cl",
	"crescent": "cres", "gardens": "gdns", "terrace": "tce", "place": "pl",
}

// officialTypeWords end a school's official name.
var officialTypeWords = map[string]bool{
	"school": true, "academy": true, "primary": true, "college": true, "infants": true,
	"juniors": true, "comprehensive": true, "grammar": true, "girls": true, "boys": true,
}

// typeSuffixes are trailing words people drop when they name a school in
// passing ("St Mary's Primary", "Harbourside").
var typeSuffixes = map[string]bool{
	"school": true, "academy": true, "primary": true, "infant": true, "infants": true,
	"junior": true, "juniors": true, "nursery": true, "and": true,
}

// variants returns the generated spellings of words: St/Saint, each
// denomination spelling and none, and (stripped) the forms without trailing
// school-type words. The input itself is not included.
func variants(words []string) (generated, stripped [][]string) {
	seen := map[string]bool{strings.Join(words, " "): true}
	add := func(list *[][]string, ws []string) {
		k := strings.Join(ws, " ")
		if k == "" || seen[k] {
			return
		}
		seen[k] = true
		*list = append(*list, ws)
	}
	// Road/Rd and the other street words people abbreviate.
	forms := [][]string{words}
	for i, w := range words {
		if ab, ok := streetAbbrev[w]; ok {
			v := slices.Clone(words)
			v[i] = ab
			add(&generated, v)
		}
	}
	// St ↔ Saint
	alt := make([]string, len(words))
	changed := false
	for i, w := range words {
		alt[i] = w
		switch w {
		case "st":
			alt[i], changed = "saint", true
		case "saint":
			alt[i], changed = "st", true
		}
	}
	if changed {
		forms = append(forms, alt)
	}
	// denominations
	for _, f := range forms {
		for _, ws := range denominationForms(f) {
			forms = appendUnique(forms, ws)
		}
	}
	for _, f := range forms[1:] {
		add(&generated, f)
	}
	// without a leading "the" and without trailing type words
	for _, f := range forms {
		ws := f
		if len(ws) > 1 && ws[0] == "the" {
			ws = ws[1:]
			add(&stripped, ws)
		}
		for len(ws) > 1 && typeSuffixes[ws[len(ws)-1]] {
			ws = ws[:len(ws)-1]
			add(&stripped, ws)
		}
	}
	return generated, stripped
}

func appendUnique(list [][]string, ws []string) [][]string {
	k := strings.Join(ws, " ")
	for _, l := range list {
		if strings.Join(l, " ") == k {
			return list
		}
	}
	return append(list, ws)
}

// denominationForms returns words with its first denomination spelling
// replaced by every other spelling of the same group, and removed.
func denominationForms(words []string) [][]string {
	for _, group := range denominations {
		for _, spelling := range group {
			at := indexSeq(words, spelling)
			if at < 0 {
				continue
			}
			var out [][]string
			rest := words[at+len(spelling):]
			for _, other := range group {
				if slices.Equal(other, spelling) {
					continue
				}
				ws := append(append(append([]string{}, words[:at]...), other...), rest...)
				out = append(out, ws)
			}
			if at > 0 {
				out = append(out, append(append([]string{}, words[:at]...), rest...))
			}
			return out
		}
	}
	return nil
}

func indexSeq(words, seq []string) int {
	for i := 0; i+len(seq) <= len(words); i++ {
		if slices.Equal(words[i:i+len(seq)], seq) {
			return i
		}
	}
	return -1
}

// keepStripped reports whether a short form is worth matching. Short forms
// that are common phrases ("Park", "The Grange") or that are only the
// school's town or a context term ("Folkestone" from "Folkestone Academy")
// would name a place, not the school, and are dropped; other ambiguous short
// forms ("Harbourside") are kept and count only with context.
func keepStripped(words []string, ctx [][]string) bool {
	if weakness(words, kindStripped) == ambCommon {
		return false
	}
	if len(words) == 1 && (commonWords[words[0]] || schoolWords[words[0]] || dedicationWords[words[0]]) {
		return false
	}
	for _, c := range ctx {
		if slices.Equal(c, words) {
			return false
		}
	}
	return true
}

// placeNamed reports whether words are one of the school's context places
// of two words or more (not its town): the area a school is named after.
func placeNamed(words []string, ctx [][]string) bool {
	if len(words) < 2 {
		return false
	}
	for i, c := range ctx {
		if i > 0 && slices.Equal(c, words) {
			return true
		}
	}
	return false
}

// domainWords normalises a configured domain or URL to the words it shows
// in text: the scheme, "www." and any path are dropped.
func domainWords(d string) []string {
	d = strings.TrimSpace(strings.ToLower(d))
	if _, rest, ok := strings.Cut(d, "://"); ok {
		d = rest
	}
	d, _, _ = strings.Cut(d, "/")
	d = strings.TrimPrefix(d, "www.")
	return normWords(d)
}

// schoolCandidates returns every alias of s with its kind. Problems with
// configured values are reported through bad(field, msg).
func schoolCandidates(s School, idx int, ctx [][]string, bad func(field, msg string)) []candidate {
	var out []candidate
	field := func(name string, i int) string {
		if i < 0 {
			return fieldf("schools[%d].%s", idx, name)
		}
		return fieldf("schools[%d].%s[%d]", idx, name, i)
	}
	withVariants := func(words []string, kind aliasKind, source string) {
		c := newCandidate(words, kind, source)
		out = append(out, c)
		if len(words) > 1 {
			out = append(out, joined(c))
		}
		gen, strip := variants(words)
		for _, g := range gen {
			out = append(out, newCandidate(g, kindGenerated, source))
		}
		for _, g := range strip {
			if keepStripped(g, ctx) {
				out = append(out, newCandidate(g, kindStripped, source))
			} else if placeNamed(g, ctx) {
				// "Nab End" from "Nab End Primary", where Nab End is also
				// the area: the place names the school only when the text
				// talks about schools (or names another context term).
				c := newCandidate(g, kindStripped, source)
				c.amb = ambCommon
				out = append(out, c)
			}
			// The short name with the town after it ("Oak Margate",
			// "Park View Sheerness") is how people tell schools apart:
			// clear, even when the short name alone is a common word.
			if len(ctx) > 0 && len(g) > 0 && !slices.Equal(g, ctx[0]) {
				withTown := append(slices.Clone(g), ctx[0]...)
				c := newCandidate(withTown, kindGenerated, source)
				c.amb = ambClear
				out = append(out, c)
			}
		}
	}
	switch ws := normWords(s.Name); {
	case len(ws) > 0:
		withVariants(ws, kindName, s.Name)
	case strings.TrimSpace(s.Name) == "":
		bad(field("name", -1), "missing")
	default:
		bad(field("name", -1), "has no letters or digits")
	}
	for i, a := range s.Aliases {
		ws := normWords(a)
		if len(ws) == 0 {
			bad(field("aliases", i), "has no letters or digits")
			continue
		}
		withVariants(ws, kindAlias, a)
	}
	for i, h := range s.Hashtags {
		tag := strings.TrimSpace(h)
		if !strings.HasPrefix(tag, "#") && !strings.HasPrefix(tag, "@") {
			tag = "#" + tag
		}
		ws := normWords(tag)
		if len(ws) == 0 {
			bad(field("hashtags", i), "has no letters or digits")
			continue
		}
		c := newCandidate(ws, kindHashtag, h)
		out = append(out, c)
		if len(ws) > 1 {
			out = append(out, joined(c))
		}
	}
	for i, d := range s.Domains {
		ws := domainWords(d)
		if len(ws) < 2 {
			bad(field("domains", i), "is not a domain name (expected something like school.kent.sch.uk)")
			continue
		}
		out = append(out, newCandidate(ws, kindDomain, d))
	}
	return out
}

// contextTerms returns the normalised context terms of s, its town first.
func contextTerms(s School, idx int, bad func(field, msg string)) [][]string {
	var out [][]string
	if s.Town != "" {
		if ws := normWords(s.Town); len(ws) > 0 {
			out = append(out, ws)
		} else {
			bad(fieldf("schools[%d].town", idx), "has no letters or digits")
		}
	}
	for i, c := range s.Context {
		ws := normWords(c)
		if len(ws) == 0 {
			bad(fieldf("schools[%d].context[%d]", idx, i), "has no letters or digits")
			continue
		}
		out = append(out, ws)
		// "Cobden Street" is also written "Cobden St", and "Links Rd"
		// "Links Road".
		if len(ws) > 1 {
			last := ws[len(ws)-1]
			for full, ab := range contextAbbrev {
				var alt string
				switch last {
				case full:
					alt = ab
				case ab:
					alt = full
				default:
					continue
				}
				v := slices.Clone(ws)
				v[len(v)-1] = alt
				out = append(out, v)
			}
		}
	}
	return out
}

// contextAbbrev are the street words of place names and their short forms:
// streetAbbrev, and "St" for "Street", which in a school's name would be
// "Saint".
var contextAbbrev = func() map[string]string {
	m := map[string]string{"street": "st"}
	for k, v := range streetAbbrev {
		m[k] = v
	}
	return m
}()
