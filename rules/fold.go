package rules

import "unicode/utf8"

// This file holds the two folds that stop a post from hiding a keyword or a
// school's name from the matcher while still reading normally to a person:
// invisible characters inside a word ("kn\u200bife", "Oak\u00adfield") and
// letters from another script that look like Latin ones ("knіfe" with a
// Cyrillic і, "Οakfield" with a Greek Ο). Both apply to the matched form
// only; excerpts and evidence spans keep the original characters.

// isIgnorable reports the Unicode Default_Ignorable_Code_Point characters
// (DerivedCoreProperties.txt, Unicode 15.0): zero-width space and joiners,
// the soft hyphen, word joiner and invisible operators, bidi marks,
// embeddings, overrides and isolates, the BOM, variation selectors, Hangul
// fillers, tag characters and the code points reserved for more of them.
// They render as nothing, so the tokenizer drops them inside a word instead
// of letting them split it. TestIgnorableTable derives the property from
// the unicode package's tables and checks this list against it.
func isIgnorable(r rune) bool {
	if r < 0xAD {
		return false
	}
	if r < 0x2000 {
		switch {
		case r == 0xAD, r == 0x34F, r == 0x61C:
			return true
		case r == 0x115F, r == 0x1160:
			return true
		case r == 0x17B4, r == 0x17B5:
			return true
		case r >= 0x180B && r <= 0x180F:
			return true
		}
		return false
	}
	switch {
	case r >= 0x200B && r <= 0x200F:
		return true
	case r >= 0x202A && r <= 0x202E:
		return true
	case r >= 0x2060 && r <= 0x206F:
		return true
	case r == 0x3164:
		return true
	case r >= 0xFE00 && r <= 0xFE0F:
		return true
	case r == 0xFEFF, r == 0xFFA0:
		return true
	case r >= 0xFFF0 && r <= 0xFFF8:
		return true
	case r >= 0x1BCA0 && r <= 0x1BCA3:
		return true
	case r >= 0x1D173 && r <= 0x1D17A:
		return true
	case r >= 0xE0000 && r <= 0xE0FFF:
		return true
	}
	return false
}

// Look-alike letters: Greek, Cyrillic and Armenian letters whose TR39
// confusables.txt (Unicode 13.0) prototype is a single Latin letter, mapped
// to that letter in lower case, so "Οakfield" (Greek capital omicron) and
// "knіfe" (Cyrillic і) read as "oakfield" and "knife". A capital maps to
// what its Latin twin folds to: Cyrillic І looks like I and becomes i, not
// the l that TR39's skeleton gives for I.
//
// This is a targeted subset of the TR39 skeleton, not the whole of it. The
// full skeleton (github.com/mtibben/confusables) maps ASCII too — "m" to
// "rn", "1" and "I" to "l", "0" to "O" — so it would merge "Year 1" with
// "year l", would have to run on every ASCII word (breaking the matcher's
// allocation-free fast path) and costs ~14 µs per post on its own against
// the matcher's ~2 µs. Only words that carry a non-ASCII letter pay for this
// table, and Latin letters, accented or not, are never changed by it.
var homoglyphPairs = map[rune]byte{
	// Greek capitals
	'Ϳ': 'j', 'Α': 'a', 'Β': 'b', 'Ε': 'e', 'Ζ': 'z', 'Η': 'h', 'Ι': 'i', 'Κ': 'k', 'Μ': 'm',
	'Ν': 'n', 'Ο': 'o', 'Ρ': 'p', 'Τ': 't', 'Υ': 'y', 'Χ': 'x', 'ϒ': 'y', 'Ϝ': 'f', 'Ϲ': 'c', 'Ϻ': 'm',
	// Greek small letters
	'α': 'a', 'γ': 'y', 'ι': 'i', 'ν': 'v', 'ο': 'o', 'ρ': 'p', 'σ': 'o', 'υ': 'u',
	'ϱ': 'p', 'ϲ': 'c', 'ϳ': 'j',
	// Cyrillic capitals
	'Ѕ': 's', 'І': 'i', 'Ј': 'j', 'А': 'a', 'В': 'b', 'Е': 'e', 'К': 'k', 'М': 'm', 'Н': 'h',
	'О': 'o', 'Р': 'p', 'С': 'c', 'Т': 't', 'У': 'y', 'Х': 'x', 'Ь': 'b', 'Ѵ': 'v', 'Ү': 'y',
	'Ӏ': 'i', 'Ԍ': 'g', 'Ԝ': 'w',
	// Cyrillic small letters
	'а': 'a', 'г': 'r', 'е': 'e', 'о': 'o', 'р': 'p', 'с': 'c', 'у': 'y', 'х': 'x', 'ѕ': 's',
	'і': 'i', 'ј': 'j', 'ѡ': 'w', 'ѵ': 'v', 'ү': 'y', 'һ': 'h', 'ҽ': 'e', 'ӏ': 'i', 'ԁ': 'd',
	'ԛ': 'q', 'ԝ': 'w',
	// Armenian
	'Ս': 'u', 'Տ': 's', 'Օ': 'o', 'ա': 'w', 'գ': 'q', 'զ': 'q', 'հ': 'h', 'ո': 'n', 'ռ': 'n',
	'ս': 'u', 'ց': 'g', 'ք': 'f', 'օ': 'o',
}

// The table covers one block range, so the lookup is an array index.
const (
	homoglyphLo = 0x370 // Greek and Coptic
	homoglyphHi = 0x590 // end of Armenian
)

var homoglyphs = func() (t [homoglyphHi - homoglyphLo]byte) {
	for r, l := range homoglyphPairs {
		t[r-homoglyphLo] = l
	}
	return t
}()

// homoglyph returns the Latin letter r imitates, or 0.
func homoglyph(r rune) byte {
	if r < homoglyphLo || r >= homoglyphHi {
		return 0
	}
	return homoglyphs[r-homoglyphLo]
}

// hasHomoglyphScript reports whether s has a rune in the table's range.
func hasHomoglyphScript(s string) bool {
	for i := 0; i < len(s); i++ {
		// Runes U+0370..U+058F are two bytes with a lead byte 0xCD..0xD6.
		if c := s[i]; c >= 0xCD && c <= 0xD6 {
			return true
		}
	}
	return false
}

// foldHomoglyphs replaces look-alike letters in s (already in NFD, so that
// a letter with an accent is its base letter plus a mark) by their Latin
// letters; it returns s itself when nothing changes.
func foldHomoglyphs(s string, buf []byte) (string, []byte) {
	b := buf[:0]
	changed := false
	for _, r := range s {
		if l := homoglyph(r); l != 0 {
			b = append(b, l)
			changed = true
			continue
		}
		b = utf8.AppendRune(b, r)
	}
	if !changed {
		return s, b
	}
	return string(b), b
}
