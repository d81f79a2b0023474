package alerts

import (
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/schoolwatch/schoolwatch/rules"
)

// MaxSubjectLen caps the subject, in characters.
const MaxSubjectLen = 160

// SanitizeText is the one sanitiser for feed text that a person is shown:
// the fields of both mail parts, mail headers, and what `once`, `status` and
// `explain` print on a terminal. It
//
//   - removes bidi controls (U+202A–202E, U+2066–2069, U+200E, U+200F,
//     U+061C), which reorder what is displayed around them, so an author
//     "Mr \u202e25:11 8202 naJ 1 noM" cannot show a forged date;
//   - turns every other control character — C0 and C1, so NUL, ESC, BEL,
//     TAB, CR and LF too — U+2028, U+2029 and invalid UTF-8 into spaces, so
//     nothing can start a header, a line or a terminal escape sequence;
//   - folds runs of white space into one space and trims the ends;
//   - with max > 0, cuts the result to max characters, the last being "…".
//
// Other characters, look-alike letters and zero-width ones included, are
// left as the post wrote them: the reader sees the evidence as it was.
func SanitizeText(s string, max int) string {
	s = strings.Join(strings.Fields(cleanText(s)), " ")
	if max > 0 && utf8.RuneCountInString(s) > max {
		rs := []rune(s)
		s = strings.TrimSpace(string(rs[:max-1])) + "…"
	}
	return s
}

// isBidiControl reports the characters that change the display order of
// the text around them.
func isBidiControl(r rune) bool {
	switch {
	case r >= '\u202a' && r <= '\u202e', r >= '\u2066' && r <= '\u2069', r == '\u200e', r == '\u200f', r == '\u061c':
		return true
	}
	return false
}

// cleanText applies SanitizeText's character rules without folding or
// trimming space, for pieces of a line (excerpt fragments, whose edge
// spaces separate them from the highlighted words).
func cleanText(s string) string {
	clean := true
	for _, r := range s {
		if r < ' ' || r >= 0x7f && (unicode.IsControl(r) || isBidiControl(r) || r == '\u2028' || r == '\u2029' || r == utf8.RuneError) {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	return strings.Map(func(r rune) rune {
		switch {
		case isBidiControl(r):
			return -1
		case unicode.IsControl(r) || r == '\u2028' || r == '\u2029' || r == utf8.RuneError:
			return ' '
		}
		return r
	}, s)
}

// sanitizeExcerpt cleans each fragment of an excerpt like SanitizeText but
// keeps one space at the edges of plain fragments, which separates them
// from the highlighted words; a fragment left empty is dropped.
func sanitizeExcerpt(frags []rules.Fragment) []rules.Fragment {
	out := make([]rules.Fragment, 0, len(frags))
	for _, f := range frags {
		t := f.Text
		if c := cleanText(t); c != t {
			t = foldSpace(c)
		}
		if f.Hit {
			t = strings.TrimSpace(t)
		}
		if t != "" {
			out = append(out, rules.Fragment{Text: t, Hit: f.Hit})
		}
	}
	return out
}

// foldSpace folds each run of white space in s, which is valid UTF-8
// (cleanText's output), into one space, keeping the runs at its ends.
func foldSpace(s string) string {
	if s == "" {
		return ""
	}
	folded := strings.Join(strings.Fields(s), " ")
	if first, _ := utf8.DecodeRuneInString(s); unicode.IsSpace(first) {
		folded = " " + folded
	}
	if last, _ := utf8.DecodeLastRuneInString(s); unicode.IsSpace(last) && folded != " " {
		folded += " "
	}
	return folded
}

// safeLink keeps only http(s) links, so a javascript: or data: URL from a
// feed never becomes clickable. The result is printable ASCII: url.Parse
// refuses ASCII control characters, and every byte String leaves outside
// ASCII (the query keeps them) is percent-encoded, so no bidi control or
// line separator reaches the text part through a link.
func safeLink(raw string) string {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return ""
	}
	s := u.String()
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf || s[i] <= ' ' || s[i] == 0x7f {
			return percentEncodeRest(s, i)
		}
	}
	return s
}

// percentEncodeRest percent-encodes the bytes of s from i on that are not
// printable ASCII.
func percentEncodeRest(s string, i int) string {
	const hex = "0123456789ABCDEF"
	b := []byte(s[:i])
	for ; i < len(s); i++ {
		if c := s[i]; c >= utf8.RuneSelf || c <= ' ' || c == 0x7f {
			b = append(b, '%', hex[c>>4], hex[c&15])
			continue
		}
		b = append(b, s[i])
	}
	return string(b)
}
