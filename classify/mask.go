package classify

import (
	"slices"
	"strings"

	"github.com/schoolwatch/schoolwatch/rules"
)

// The placeholder words a masked name becomes. Normalised words never
// contain '_', so no post can spell them.
const (
	schoolWord = "_school_"
	placeWord  = "_place_"
)

// masker replaces the words of school names with schoolWord and the words of
// towns and context places with placeWord, so that a school's name never
// becomes a feature: the model learns "evacuated after a threat", not
// "Harbourside". It is read-only once built and safe for concurrent use.
type masker struct {
	// byFirst maps a phrase's first word to the phrases starting with it,
	// longest first.
	byFirst map[string][]maskPhrase
}

type maskPhrase struct {
	words []string
	as    string // schoolWord or placeWord
}

// schoolKindWords end the distinctive part of a school's name: "Harbour View
// School" is also called "Harbour View".
var schoolKindWords = []string{
	"school", "primary", "academy", "community", "catholic", "ce", "c", "cofe", "church",
	"comprehensive", "grammar", "infant", "infants", "junior", "juniors", "college", "high",
	"secondary", "rc", "roman",
}

func newMasker(schools []rules.School) *masker {
	m := &masker{byFirst: make(map[string][]maskPhrase)}
	for _, s := range schools {
		names := append([]string{s.Name}, s.Aliases...)
		names = append(names, s.Hashtags...)
		for _, d := range s.Domains {
			// "stmarys-folkestone.kent.sch.uk" → "stmarys folkestone"
			if i := strings.IndexByte(d, '.'); i > 0 {
				d = d[:i]
			}
			names = append(names, d)
		}
		if w := normWords(s.Name); len(w) > 2 {
			if i := slices.IndexFunc(w[1:], func(x string) bool { return slices.Contains(schoolKindWords, x) }); i >= 1 {
				names = append(names, strings.Join(w[:i+1], " ")) // at least two words
			}
		}
		for _, n := range names {
			w := normWords(n)
			m.add(w, schoolWord)
			if len(w) > 1 {
				// A hashtag written all in lower case stays one word.
				m.add([]string{strings.Join(w, "")}, schoolWord)
			}
		}
		for _, p := range append([]string{s.Town}, s.Context...) {
			m.add(normWords(p), placeWord)
		}
	}
	for k, list := range m.byFirst {
		slices.SortStableFunc(list, func(a, b maskPhrase) int { return len(b.words) - len(a.words) })
		m.byFirst[k] = list
	}
	return m
}

func (m *masker) add(words []string, as string) {
	if len(words) == 0 {
		return
	}
	list := m.byFirst[words[0]]
	for i := range list {
		if slices.Equal(list[i].words, words) {
			if as == schoolWord {
				list[i].as = as // a school name wins over a place of the same words
			}
			return
		}
	}
	m.byFirst[words[0]] = append(m.byFirst[words[0]], maskPhrase{words: words, as: as})
}

// mask appends words to dst with every configured phrase replaced by its
// placeholder (longest phrase first, left to right), together with the
// words of a school's kind that follow a school's name, and returns dst.
// Placeholders that follow each other collapse to one ("St Mary's,
// Folkestone" → "_school_ _place_", "Harbourside Academy Harbourside" →
// "_school_").
func (m *masker) mask(dst, words []string) []string {
	for i := 0; i < len(words); {
		n, as := m.match(words[i:])
		if n == 0 {
			dst = append(dst, words[i])
			i++
			continue
		}
		if len(dst) == 0 || dst[len(dst)-1] != as {
			dst = append(dst, as)
		}
		i += n
		if as == schoolWord {
			// "St Mary's Primary", "Harbourside Academy School": the kind of
			// school after its name is part of the name.
			for i < len(words) && slices.Contains(schoolKindWords, words[i]) {
				i++
			}
		}
	}
	return dst
}

func (m *masker) match(words []string) (int, string) {
	w := words[0]
	for _, p := range m.byFirst[w] {
		if len(p.words) <= len(words) && phraseAt(p.words, words) {
			return len(p.words), p.as
		}
	}
	// "harboursides", from "Harbourside's".
	if n := len(w); n > 2 && w[n-1] == 's' {
		for _, p := range m.byFirst[w[:n-1]] {
			if len(p.words) == 1 {
				return 1, p.as
			}
		}
	}
	return 0, ""
}

// phraseAt reports whether words starts with phrase, its last word perhaps
// with a possessive s ("harbourside academys").
func phraseAt(phrase, words []string) bool {
	last := len(phrase) - 1
	if !slices.Equal(phrase[:last], words[:last]) {
		return false
	}
	w, p := words[last], phrase[last]
	return w == p || len(w) == len(p)+1 && w[len(p)] == 's' && strings.HasPrefix(w, p)
}

// normWords returns the normalised words of s.
func normWords(s string) []string { return strings.Fields(rules.Normalize(s)) }
