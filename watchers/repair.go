package watchers

import (
	"bytes"
	"unicode/utf8"
)

// repairXML returns the document with what would make Go's XML parser
// reject all of it for one bad character replaced or removed, and records
// what it did in rep:
//
//   - in a UTF-8 document (declared so, or declaring nothing), byte
//     sequences that are not UTF-8 become U+FFFD (a stray Windows-1252
//     quote in one item);
//   - characters XML forbids are dropped: C0 controls other than tab,
//     newline and carriage return, and in UTF-8 U+FFFE and U+FFFF;
//   - so are character references to them, or to nothing (&#27;, &#0;,
//     &#xD800;, &#x110000;).
//
// A document in UTF-16 or UTF-32 is left alone. The common case, a clean
// document, costs one read of its bytes and no copy.
func repairXML(doc []byte, rep *docReport) []byte {
	enc, wide := xmlEncoding(doc)
	if wide {
		return doc
	}
	isUTF8 := enc == "" || enc == "utf-8" || enc == "utf8"
	if isUTF8 && !utf8.Valid(doc) {
		doc = bytes.ToValidUTF8(doc, []byte("\uFFFD"))
		rep.repaired(RepairInvalidUTF8, 1)
	}
	i := firstIllegal(doc, isUTF8)
	if i < 0 {
		return doc
	}
	out := make([]byte, i, len(doc))
	copy(out, doc)
	controls, refs := 0, 0
	for i < len(doc) {
		c := doc[i]
		switch {
		case c < 0x20 && c != '\t' && c != '\n' && c != '\r':
			controls++
			i++
			continue
		case c == '&' && i+1 < len(doc) && doc[i+1] == '#':
			if r, n, ok := charRef(doc[i:]); ok && !xmlChar(r) {
				refs++
				i += n
				continue
			}
		case c == 0xEF && isUTF8 && i+2 < len(doc) && doc[i+1] == 0xBF && (doc[i+2] == 0xBE || doc[i+2] == 0xBF):
			controls++
			i += 3
			continue
		}
		out = append(out, c)
		i++
	}
	rep.repaired(RepairControl, controls)
	rep.repaired(RepairCharRef, refs)
	return out
}

// special marks the bytes firstIllegal must look at more closely.
var special = func() (t [256]bool) {
	for c := range 0x20 {
		t[c] = c != '\t' && c != '\n' && c != '\r'
	}
	t['&'] = true
	t[0xEF] = true
	return t
}()

// firstIllegal returns the index of the first character or character
// reference repairXML removes, or -1.
func firstIllegal(doc []byte, isUTF8 bool) int {
	for i := 0; i < len(doc); i++ {
		c := doc[i]
		if !special[c] {
			continue
		}
		switch {
		case c == '&':
			if i+1 < len(doc) && doc[i+1] == '#' {
				if r, _, ok := charRef(doc[i:]); ok && !xmlChar(r) {
					return i
				}
			}
		case c == 0xEF:
			if isUTF8 && i+2 < len(doc) && doc[i+1] == 0xBF && (doc[i+2] == 0xBE || doc[i+2] == 0xBF) {
				return i
			}
		default:
			return i
		}
	}
	return -1
}

// charRef reads a character reference (&#65; or &#x41;) at the start of b:
// its value (0x110000 for anything past Unicode), its length, and whether
// it is one.
func charRef(b []byte) (r rune, n int, ok bool) {
	k, base := 2, rune(10)
	if k < len(b) && b[k] == 'x' {
		k, base = 3, 16
	}
	start := k
digits:
	for ; k < len(b); k++ {
		var d rune
		switch c := b[k]; {
		case c >= '0' && c <= '9':
			d = rune(c - '0')
		case base == 16 && c >= 'a' && c <= 'f':
			d = rune(c-'a') + 10
		case base == 16 && c >= 'A' && c <= 'F':
			d = rune(c-'A') + 10
		default:
			break digits
		}
		if r = r*base + d; r > utf8.MaxRune {
			r = utf8.MaxRune + 1 // and stays there: no overflow
		}
	}
	if k == start || k >= len(b) || b[k] != ';' {
		return 0, 0, false
	}
	return r, k + 1, true
}

// xmlChar reports whether XML 1.0 allows the character.
func xmlChar(r rune) bool {
	return r == 0x09 || r == 0x0A || r == 0x0D ||
		r >= 0x20 && r <= 0xD7FF || r >= 0xE000 && r <= 0xFFFD || r >= 0x10000 && r <= utf8.MaxRune
}

// xmlEncoding returns the encoding an XML document declares, lower-cased
// ("" when it declares none), and whether it is UTF-16 or UTF-32, which
// repairXML cannot read byte by byte.
func xmlEncoding(doc []byte) (enc string, wide bool) {
	if len(doc) >= 2 && (doc[0] == 0xFE && doc[1] == 0xFF || doc[0] == 0xFF && doc[1] == 0xFE || doc[0] == 0 || doc[1] == 0) {
		return "", true
	}
	doc = bytes.TrimPrefix(doc, []byte("\xEF\xBB\xBF"))
	if !bytes.HasPrefix(doc, []byte("<?xml")) {
		return "", false
	}
	decl := doc[:min(len(doc), 512)]
	if k := bytes.Index(decl, []byte("?>")); k >= 0 {
		decl = decl[:k]
	}
	k := bytes.Index(decl, []byte("encoding"))
	if k < 0 {
		return "", false
	}
	v := bytes.TrimLeft(decl[k+len("encoding"):], " \t\r\n")
	v, ok := bytes.CutPrefix(v, []byte("="))
	if !ok {
		return "", false
	}
	v = bytes.TrimLeft(v, " \t\r\n")
	if len(v) < 2 || v[0] != '"' && v[0] != '\'' {
		return "", false
	}
	if end := bytes.IndexByte(v[1:], v[0]); end >= 0 {
		enc = string(bytes.ToLower(bytes.TrimSpace(v[1 : 1+end])))
		wide = enc == "utf-16" || enc == "utf-16le" || enc == "utf-16be" || enc == "utf-32" || enc == "ucs-2"
	}
	return enc, wide
}
