package rules

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"
)

// token is one normalised word of a text. Offsets are int32 to keep the
// per-item token slice small; texts over 2 GiB are not supported.
type token struct {
	start, end   int32  // byte offsets of the word in the original text
	nstart, nend int32  // the normalised word in tokenizer.norm
	hash         uint64 // wordHash of the normalised word
	// alt is the hash of the word without a possessive "'s" ("Academy's"
	// → "academy"), or 0. Matching tries both, so "Harbourside Academy's"
	// mentions the school and "teacher's" matches the query word teacher.
	alt uint64
}

// possessive reports whether the normalised word of token i came from a
// word ending in 's, so that dropping its last byte gives the base word.
func (t *tokenizer) possessive(i int) bool { return t.toks[i].alt != 0 }

// matchWord reports whether token i is w, or w with a possessive 's.
func (t *tokenizer) matchWord(i int, w string) bool {
	got := t.wordAt(i)
	if string(got) == w {
		return true
	}
	return t.possessive(i) && string(got[:len(got)-1]) == w
}

// tokenizer turns text into normalised word tokens. It owns reusable
// buffers, so one tokenizer must not be used by two goroutines at once; the
// Matcher keeps a pool of them.
type tokenizer struct {
	src   string // the text last tokenised; tokens' start and end index it
	toks  []token
	norm  []byte // normalised words, each followed by one space
	fold  cases.Caser
	slow  []byte
	glyph []byte // scratch for foldHomoglyphs
}

func newTokenizer() *tokenizer {
	return &tokenizer{fold: cases.Fold()}
}

const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
)

// wordHash hashes one normalised word (FNV-1a).
func wordHash(w string) uint64 {
	h := uint64(fnvOffset)
	for i := 0; i < len(w); i++ {
		h ^= uint64(w[i])
		h *= fnvPrime
	}
	return h
}

// wordHashBytes is wordHash for a word held in a byte slice.
func wordHashBytes(w []byte) uint64 {
	h := uint64(fnvOffset)
	for _, c := range w {
		h ^= uint64(c)
		h *= fnvPrime
	}
	return h
}

// seqHash extends the hash of a word sequence by one more word. It mixes so
// that "a b" and "b a" differ and a one-word sequence hashes to the word's
// own hash plus a fixed step, which keeps 1-grams and n-grams apart.
func seqHash(prev, word uint64) uint64 {
	h := (prev ^ word) * 0x9E3779B97F4A7C15
	return h ^ (h >> 29)
}

// Normalize returns s as schoolwatch compares it: NFKC, case-folded,
// diacritics removed, apostrophes dropped ("Mary’s" → "marys"), invisible
// characters (Unicode Default_Ignorable_Code_Point: zero-width space and
// joiners, soft hyphen, bidi controls, variation selectors…) dropped without
// splitting the word ("kn\u200bife" → "knife"), Greek, Cyrillic and Armenian
// look-alikes of Latin letters folded to them ("knіfe" with a Cyrillic і →
// "knife"), every run of punctuation and space collapsed to one space, and
// hashtags and @handles split at case and digit changes ("#StMarysFolkestone"
// → "st marys folkestone"). Patterns and items go through the same function,
// so a pattern matches whole normalised words.
func Normalize(s string) string {
	t := newTokenizer()
	t.tokenize(s)
	return strings.TrimSuffix(string(t.norm), " ")
}

// words returns the normalised words of s.
func normWords(s string) []string {
	n := Normalize(s)
	if n == "" {
		return nil
	}
	return strings.Split(n, " ")
}

// wordAt returns the normalised text of token i.
func (t *tokenizer) wordAt(i int) []byte {
	tk := t.toks[i]
	return t.norm[tk.nstart:tk.nend]
}

// span returns the normalised text of tokens [i, j), words separated by one
// space, as aliases are stored.
func (t *tokenizer) span(i, j int) []byte {
	return t.norm[t.toks[i].nstart:t.toks[j-1].nend]
}

func isASCIIWord(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// isApostrophe reports runes that are dropped inside words rather than
// splitting them, so that "Mary's", "Mary’s" and "Marys" agree.
func isApostrophe(r rune) bool {
	switch r {
	case '\'', '`', '\u2018', '\u2019', '\u02bc', '\u2032', '\uff07', '\u00b4':
		return true
	}
	return false
}

func isWordRune(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsNumber(r) || unicode.Is(unicode.Mn, r)
}

// tokenize replaces t.toks and t.norm with the tokens of text. The common
// case — ASCII words — is handled byte by byte without allocating.
func (t *tokenizer) tokenize(text string) {
	t.src = text
	t.toks = t.toks[:0]
	t.norm = t.norm[:0]
	prevWord := false // previous rune was part of a word (for # and @)
	i := 0
	for i < len(text) {
		c := text[i]
		if c < utf8.RuneSelf {
			if isASCIIWord(c) {
				i = t.word(text, i, false)
				prevWord = true
				continue
			}
			if (c == '#' || c == '@') && !prevWord && i+1 < len(text) {
				if r, _ := utf8.DecodeRuneInString(text[i+1:]); r < utf8.RuneSelf && isASCIIWord(byte(r)) || r >= utf8.RuneSelf && isWordRune(r) {
					i = t.word(text, i+1, true)
					prevWord = true
					continue
				}
			}
			prevWord = c == '\'' || c == '`' // "Mary's" keeps its word going
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(text[i:])
		if isApostrophe(r) {
			i += size // never starts a word ("ʼ" is a letter to Unicode)
			continue
		}
		if isIgnorable(r) {
			i += size // invisible: neither starts nor ends a word
			continue
		}
		if isWordRune(r) {
			i = t.word(text, i, false)
			prevWord = true
			continue
		}
		prevWord = false
		i += size
	}
}

// word scans the word starting at byte i, emits its tokens and returns the
// byte offset after it. A word is a run of letters, digits, marks,
// apostrophes and invisible (default-ignorable) characters; apostrophes and
// invisible characters never start or end one, and are dropped from the
// normalised word, so "kn\u200bife" and "Oak\u00adfield" stay one word.
func (t *tokenizer) word(text string, i int, tag bool) int {
	start, end, ascii := i, i, true
	j := i
	for j < len(text) {
		c := text[j]
		if c < utf8.RuneSelf {
			if isASCIIWord(c) {
				j++
				end = j
				continue
			}
			if c == '\'' || c == '`' {
				j++
				continue
			}
			break
		}
		r, size := utf8.DecodeRuneInString(text[j:])
		if isApostrophe(r) || isIgnorable(r) {
			// Both leave ascii alone: emitASCII drops non-ASCII bytes.
			j += size
			continue
		}
		if !isWordRune(r) {
			break
		}
		ascii = false
		j += size
		end = j
	}
	w := text[start:end]
	if w == "" {
		return j
	}
	switch {
	case tag:
		t.emitTag(w, start)
	case ascii:
		t.emitASCII(w, start)
	default:
		t.emitSlow(w, start, end)
	}
	return j
}

// emitASCII appends one ASCII word, lowercased, apostrophes dropped.
func (t *tokenizer) emitASCII(w string, off int) {
	ns := len(t.norm)
	h, prev := uint64(fnvOffset), uint64(0)
	for k := 0; k < len(w); k++ {
		c := w[k]
		if c == '\'' || c == '`' || c >= utf8.RuneSelf {
			continue // apostrophes, including the bytes of a curly one
		}
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		t.norm = append(t.norm, c)
		prev = h
		h ^= uint64(c)
		h *= fnvPrime
	}
	var alt uint64
	if n := len(w); n > 2 && w[n-1]|0x20 == 's' && len(t.norm)-ns > 1 {
		if b := w[:n-1]; b[len(b)-1] == '\'' || strings.HasSuffix(b, "’") || b[len(b)-1] == '`' {
			alt = prev
		}
	}
	t.toks = append(t.toks, token{start: int32(off), end: int32(off + len(w)), nstart: int32(ns), nend: int32(len(t.norm)), hash: h, alt: alt})
	t.norm = append(t.norm, ' ')
}

// emitSlow normalises a word with non-ASCII runes: NFKC, look-alike
// letters folded, case folding, diacritics and invisible characters removed.
// NFKC can turn one rune into several words ("½" → "1⁄2"), so every
// resulting word gets the original word's span.
func (t *tokenizer) emitSlow(w string, start, end int) {
	s := norm.NFKC.String(w)
	if hasHomoglyphScript(s) {
		// Before case folding, which would lose that Cyrillic Н looks like
		// H (its small н does not look like h). NFD first, so that a
		// look-alike with an accent (ё) is its base letter and a mark.
		s, t.glyph = foldHomoglyphs(norm.NFD.String(s), t.glyph)
	}
	// Fold, then lower: cases.Fold maps some scripts (Cherokee) to upper
	// case, which would make Normalize(Normalize(s)) differ.
	s = strings.ToLower(t.fold.String(s))
	s = norm.NFD.String(s)
	b := t.slow[:0]
	for _, r := range s {
		if unicode.Is(unicode.Mn, r) || isApostrophe(r) || isIgnorable(r) {
			continue
		}
		if f, ok := foldExtra[r]; ok {
			b = append(b, f...)
			continue
		}
		if l := homoglyph(r); l != 0 {
			// Again after folding: a capital with no look-alike of its own
			// may fold to a small letter that has one, and the output must
			// be stable under a second Normalize.
			b = append(b, l)
			continue
		}
		if !unicode.IsLetter(r) && !unicode.IsNumber(r) {
			b = append(b, ' ')
			continue
		}
		b = utf8.AppendRune(b, r)
	}
	t.slow = b
	for _, part := range strings.Fields(string(b)) {
		ns := len(t.norm)
		t.norm = append(t.norm, part...)
		t.toks = append(t.toks, token{start: int32(start), end: int32(end), nstart: int32(ns), nend: int32(len(t.norm)), hash: wordHash(part)})
		t.norm = append(t.norm, ' ')
	}
}

// foldExtra maps letters that carry no combining mark in Unicode but that
// English readers treat as a plain letter.
var foldExtra = map[rune]string{
	'ø': "o", 'ł': "l", 'đ': "d", 'ħ': "h", 'æ': "ae", 'œ': "oe", 'ŧ': "t", 'ı': "i", 'ð': "d", 'þ': "th",
}

// emitTag splits a hashtag or @handle body at case and digit changes
// ("StMarysFolkestone" → St Marys Folkestone, "Year6" → Year 6,
// "BBCNews" → BBC News) and emits each part as a word. An all-lower or
// all-upper tag stays one word; the matcher also knows every multi-word
// alias in joined form ("stmarysfolkestone") for those.
func (t *tokenizer) emitTag(w string, off int) {
	partStart := 0
	var prev, prev2 rune // previous and second-previous non-apostrophe runes
	for k, r := range w {
		if isApostrophe(r) || isIgnorable(r) {
			continue
		}
		split := false
		switch {
		case prev == 0:
		case unicode.IsUpper(r) && unicode.IsLower(prev):
			split = true
		case unicode.IsNumber(r) != unicode.IsNumber(prev):
			split = true
		}
		if unicode.IsLower(r) && unicode.IsUpper(prev) && unicode.IsUpper(prev2) {
			// "BBCNews": the new part starts at the last capital.
			pk := k - utf8.RuneLen(prev)
			if pk > partStart {
				t.emitPart(w[partStart:pk], off+partStart)
				partStart = pk
			}
		}
		if split && k > partStart {
			t.emitPart(w[partStart:k], off+partStart)
			partStart = k
		}
		prev2, prev = prev, r
	}
	if partStart < len(w) {
		t.emitPart(w[partStart:], off+partStart)
	}
}

func (t *tokenizer) emitPart(p string, off int) {
	for k := 0; k < len(p); k++ {
		if p[k] >= utf8.RuneSelf {
			t.emitSlow(p, off, off+len(p))
			return
		}
	}
	t.emitASCII(p, off)
}
