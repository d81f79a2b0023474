package gias

import (
	"slices"
	"strings"
	"unicode"
)

// tailPhrases are what an official name ends with and people leave out
// when they name the school: its type, phase and denomination. Longer
// phrases come first. They are compared with foldKey'd words. "for
// Girls" stays: it is what tells two grammar schools of a town apart.
var tailPhrases = [][]string{
	{"church", "of", "england"}, {"c", "of", "e"}, {"roman", "catholic"},
	{"voluntary", "aided"}, {"voluntary", "controlled"},
	{"c", "e"}, {"r", "c"},
	{"school"}, {"academy"}, {"primary"}, {"secondary"}, {"infant"}, {"infants"}, {"junior"}, {"juniors"},
	{"nursery"}, {"and"}, {"community"}, {"county"}, {"foundation"}, {"federation"}, {"ce"}, {"cofe"},
	{"rc"}, {"catholic"}, {"methodist"}, {"va"}, {"vc"}, {"free"}, {"grammar"}, {"high"}, {"college"},
	{"mixed"}, {"special"}, {"village"},
}

// names suggests a short name for a school, as people say it ("St Mary's"
// for "St Mary's Church of England Primary School"; "" when the name is
// short already), and aliases: the short name with the town ("St Mary's
// Folkestone", as local posts and hashtags put it), and the names written
// with "and" where the official one has "&" (the matcher reads "&" as no
// word at all).
func names(name, town string) (short string, aliases []string) {
	short = shortName(name, town)
	add := func(a string) {
		k := foldKey(a)
		if k == "" || k == foldKey(name) || k == foldKey(short) || slices.ContainsFunc(aliases, func(b string) bool { return foldKey(b) == k }) {
			return
		}
		aliases = append(aliases, a)
	}
	if short != "" && town != "" && !containsWords(short, town) {
		add(short + " " + town)
	}
	for _, n := range []string{name, short} {
		if strings.Contains(n, "&") {
			add(strings.Join(strings.Fields(strings.ReplaceAll(n, "&", " and ")), " "))
		}
	}
	return short, aliases
}

// shortName strips from name what follows a dash or sits in parentheses,
// a leading "The", and then tailPhrases from its end, for as long as what
// is left is not only the town ("Folkestone" from "Folkestone Academy"
// names a place, not the school). It returns "" when that leaves the name.
func shortName(name, town string) string {
	s := name
	for _, sep := range []string{" - ", " – ", " — ", ": "} {
		if i := strings.Index(s, sep); i > 0 {
			s = s[:i]
		}
	}
	s = dropParens(s)
	toks := strings.Fields(s)
	if len(toks) > 1 && foldKey(toks[0]) == "the" {
		toks = toks[1:]
	}
	best := toks
	for len(toks) > 1 {
		folded := make([]string, len(toks))
		for i, t := range toks {
			folded[i] = foldKey(t)
		}
		cut := 0
		for _, p := range tailPhrases {
			if len(p) < len(toks) && slices.Equal(folded[len(folded)-len(p):], p) {
				cut = len(p)
				break
			}
		}
		if cut == 0 {
			break
		}
		toks = toks[:len(toks)-cut]
		if acceptable(toks, town) {
			best = toks
		}
	}
	short := strings.TrimRight(strings.Join(best, " "), " ,-&")
	if foldKey(short) == foldKey(name) || foldKey(short) == "" {
		return ""
	}
	return short
}

// acceptable reports whether toks may stand for a school: not the town
// alone, and not a word that only starts a dedication ("St", "Our Lady").
func acceptable(toks []string, town string) bool {
	switch k := foldKey(strings.Join(toks, " ")); k {
	case foldKey(town), "st", "saint", "the", "our", "our lady", "holy", "blessed":
		return false
	}
	return true
}

func dropParens(s string) string {
	for {
		i := strings.IndexByte(s, '(')
		if i < 0 {
			return s
		}
		j := strings.IndexByte(s[i:], ')')
		if j < 0 {
			return strings.TrimSpace(s[:i])
		}
		s = strings.Join(strings.Fields(s[:i]+" "+s[i+j+1:]), " ")
	}
}

// foldKey is s as a matcher sees it, near enough: lower-case words of
// letters and digits, apostrophes and dots dropped ("St. Mary's" → "st
// marys"), "&" kept as a word.
func foldKey(s string) string {
	var b strings.Builder
	space := false
	for _, r := range strings.ToLower(s) {
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r) || r == '&':
			if space && b.Len() > 0 {
				b.WriteByte(' ')
			}
			space = false
			b.WriteRune(r)
		case r == '\'' || r == '’' || r == '.':
		default:
			space = true
		}
	}
	return b.String()
}

// containsWords reports whether the words of part occur in s, in order.
func containsWords(s, part string) bool {
	w, p := " "+foldKey(s)+" ", " "+foldKey(part)+" "
	return strings.TrimSpace(p) != "" && strings.Contains(w, p)
}

// places are a school's context terms: its locality, the third address
// line, its postcode district and its trust, less its town and repeats.
func places(e Establishment) []string {
	var out []string
	add := func(s string) {
		k := foldKey(s)
		if k == "" || k == foldKey(e.Town) || slices.ContainsFunc(out, func(o string) bool { return foldKey(o) == k }) {
			return
		}
		out = append(out, s)
	}
	add(tidyCaps(e.Locality))
	add(tidyCaps(e.Address3))
	add(postcodeDistrict(e.Postcode))
	add(tidyCaps(e.Trust))
	return out
}

// postcodeDistrict is the outward code of a UK postcode ("CT20" of "CT20
// 2RB"), or "" if p does not look like one.
func postcodeDistrict(p string) string {
	p = strings.ToUpper(strings.Join(strings.Fields(p), ""))
	if len(p) < 5 || len(p) > 7 {
		return ""
	}
	out := p[:len(p)-3]
	in := p[len(p)-3:]
	if !(isDigit(in[0]) && isUpper(in[1]) && isUpper(in[2])) || !isUpper(out[0]) {
		return ""
	}
	digits := false
	for i := 0; i < len(out); i++ {
		switch {
		case isDigit(out[i]):
			digits = true
		case !isUpper(out[i]):
			return ""
		}
	}
	if !digits {
		return ""
	}
	return out
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
func isUpper(c byte) bool { return c >= 'A' && c <= 'Z' }

// smallWords stay lower-case inside a title-cased name.
var smallWords = map[string]bool{"of": true, "and": true, "the": true, "in": true, "on": true, "at": true, "for": true, "upon": true, "by": true, "under": true, "le": true, "de": true}

// acronyms stay upper-case.
var acronyms = map[string]bool{"CE": true, "RC": true, "VA": true, "VC": true, "UK": true, "MAT": true, "CIC": true, "UTC": true, "SEN": true, "SEND": true, "CIO": true}

// tidyCaps title-cases a value the register writes in capitals (trust
// names, some towns): "THE KEMNAL ACADEMIES TRUST" → "The Kemnal
// Academies Trust", "BURNHAM-ON-SEA" → "Burnham-on-Sea". Anything with a
// lower-case letter is left as it is.
func tidyCaps(s string) string {
	if strings.IndexFunc(s, unicode.IsLower) >= 0 || strings.IndexFunc(s, unicode.IsLetter) < 0 {
		return s
	}
	words := strings.Fields(s)
	for i, w := range words {
		parts := strings.Split(w, "-")
		for j, p := range parts {
			core := strings.Trim(p, "()',.&")
			switch {
			case acronyms[core]:
			case (i > 0 || j > 0) && smallWords[strings.ToLower(p)]:
				parts[j] = strings.ToLower(p)
			default:
				rs := []rune(strings.ToLower(p))
				for k, r := range rs {
					if unicode.IsLetter(r) {
						rs[k] = unicode.ToUpper(r)
						break
					}
				}
				parts[j] = string(rs)
			}
		}
		words[i] = strings.Join(parts, "-")
	}
	return strings.Join(words, " ")
}
