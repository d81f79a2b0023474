package rules

import (
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Fragment is a piece of an excerpt; Hit marks a piece that matched and
// should be highlighted.
type Fragment struct {
	Text string
	Hit  bool
}

// Ellipsis marks where Excerpt cut text.
const Ellipsis = "…"

// minContext is the fewest runes of context kept either side of a hit when
// the width allows.
const minContext = 12

// Excerpt cuts text around spans (usually a Finding's Evidence) to about
// width runes for showing in a mail. The fragments, joined, read as a
// substring of text with runs of white space collapsed and Ellipsis where
// text was cut; Hit fragments are the matched words. When not every span
// fits, the first rule span and the first school span are kept first, then
// the others in order. Spans outside text are ignored.
func Excerpt(text string, spans []Span, width int) []Fragment {
	if width < 1 {
		width = 1
	}
	hits := mergeSpans(text, spans)
	if len(hits) == 0 {
		end := advanceRunes(text, 0, width)
		end = snapEnd(text, end)
		return render(text, []window{{0, end, nil}})
	}
	// Choose hits by priority until the width is used.
	order := make([]int, 0, len(hits))
	for _, kind := range []SpanKind{RuleSpan, SchoolSpan} {
		if i := slices.IndexFunc(hits, func(h hitRange) bool { return h.kind == kind }); i >= 0 && !slices.Contains(order, i) {
			order = append(order, i)
		}
	}
	for i := range hits {
		if !slices.Contains(order, i) {
			order = append(order, i)
		}
	}
	// A hit close to one already chosen costs only the text between them.
	var chosen []hitRange
	used := 0
	for _, i := range order {
		h := hits[i]
		n := utf8.RuneCountInString(text[h.start:h.end]) + 2*minContext
		for _, c := range chosen {
			var between int
			if c.end <= h.start {
				between = utf8.RuneCountInString(text[c.end:h.end])
			} else {
				between = utf8.RuneCountInString(text[h.start:c.start])
			}
			n = min(n, between)
		}
		if len(chosen) > 0 && used+n > width {
			continue
		}
		chosen = append(chosen, h)
		used += n
	}
	slices.SortFunc(chosen, func(a, b hitRange) int { return a.start - b.start })
	// Hits close together share one window; what is left of the width is
	// shared out as context around each window.
	var wins []window
	for _, h := range chosen {
		if n := len(wins); n > 0 && utf8.RuneCountInString(text[wins[n-1].end:h.start]) <= 2*minContext {
			wins[n-1].end = h.end
			wins[n-1].hits = append(wins[n-1].hits, h)
			continue
		}
		wins = append(wins, window{h.start, h.end, []hitRange{h}})
	}
	covered := 0
	for _, w := range wins {
		covered += utf8.RuneCountInString(text[w.start:w.end])
	}
	pad := max(0, (width-covered)/(2*len(wins)))
	for i := range wins {
		w := &wins[i]
		before := retreatRunes(text, w.start, pad)
		spare := pad - utf8.RuneCountInString(text[before:w.start]) // unused at the start of text
		after := advanceRunes(text, w.end, pad+spare)
		if spare2 := pad - utf8.RuneCountInString(text[w.end:after]); spare2 > 0 && spare == 0 {
			before = retreatRunes(text, before, spare2) // unused at the end of text
		}
		w.start = snapStart(text, before, w.start)
		w.end = snapEnd(text, after)
		if w.end < w.hits[len(w.hits)-1].end {
			w.end = w.hits[len(w.hits)-1].end
		}
	}
	// Windows that grew into each other become one.
	merged := wins[:1]
	for _, w := range wins[1:] {
		last := &merged[len(merged)-1]
		if w.start <= last.end {
			last.end = max(last.end, w.end)
			last.hits = append(last.hits, w.hits...)
			continue
		}
		merged = append(merged, w)
	}
	wins = merged
	return render(text, wins)
}

type hitRange struct {
	start, end int
	kind       SpanKind
}

type window struct {
	start, end int
	hits       []hitRange
}

// mergeSpans returns the valid spans sorted, overlapping ones merged.
func mergeSpans(text string, spans []Span) []hitRange {
	var hs []hitRange
	for _, s := range spans {
		if s.Start < 0 || s.End > len(text) || s.Start >= s.End {
			continue
		}
		hs = append(hs, hitRange{s.Start, s.End, s.Kind})
	}
	slices.SortFunc(hs, func(a, b hitRange) int { return a.start - b.start })
	var out []hitRange
	for _, h := range hs {
		if n := len(out); n > 0 && h.start <= out[n-1].end {
			out[n-1].end = max(out[n-1].end, h.end)
			continue
		}
		out = append(out, h)
	}
	return out
}

func advanceRunes(s string, i, n int) int {
	for ; n > 0 && i < len(s); n-- {
		_, size := utf8.DecodeRuneInString(s[i:])
		i += size
	}
	return i
}

func retreatRunes(s string, i, n int) int {
	for ; n > 0 && i > 0; n-- {
		_, size := utf8.DecodeLastRuneInString(s[:i])
		i -= size
	}
	return i
}

// snapStart moves a cut forward to the start of a word, so an excerpt does
// not begin mid-word, but never past limit.
func snapStart(s string, i, limit int) int {
	if i == 0 {
		return 0
	}
	for j := i; j < limit; {
		r, size := utf8.DecodeRuneInString(s[j:])
		if unicode.IsSpace(r) {
			return j + size
		}
		j += size
	}
	if r, _ := utf8.DecodeLastRuneInString(s[:i]); unicode.IsSpace(r) {
		return i
	}
	return limit
}

// snapEnd moves a cut back to the end of a word.
func snapEnd(s string, i int) int {
	if i >= len(s) {
		return len(s)
	}
	if r, _ := utf8.DecodeRuneInString(s[i:]); unicode.IsSpace(r) {
		return i
	}
	for j := i; j > 0; {
		r, size := utf8.DecodeLastRuneInString(s[:j])
		if unicode.IsSpace(r) {
			return j - size
		}
		j -= size
		if i-j > 40 {
			break // one very long "word" (a URL): cut it
		}
	}
	return i
}

func render(text string, wins []window) []Fragment {
	var out []Fragment
	plain := func(s string) {
		s = collapseSpace(s)
		if s == "" {
			return
		}
		if n := len(out); n > 0 && !out[n-1].Hit {
			out[n-1].Text += s
			return
		}
		out = append(out, Fragment{Text: s})
	}
	for i, w := range wins {
		if w.start > 0 || i > 0 {
			plain(Ellipsis)
		}
		at := w.start
		for _, h := range w.hits {
			if h.start < at {
				continue
			}
			plain(text[at:h.start])
			out = append(out, Fragment{Text: collapseSpace(text[h.start:h.end]), Hit: true})
			at = h.end
		}
		plain(text[at:w.end])
	}
	if n := len(wins); n > 0 && wins[n-1].end < len(text) {
		plain(Ellipsis)
	}
	return out
}

func collapseSpace(s string) string {
	if !strings.ContainsFunc(s, func(r rune) bool { return unicode.IsSpace(r) && r != ' ' }) && !strings.Contains(s, "  ") {
		return s
	}
	var b strings.Builder
	space := false
	for _, r := range s {
		if unicode.IsSpace(r) {
			space = true
			continue
		}
		if space {
			b.WriteByte(' ')
			space = false
		}
		b.WriteRune(r)
	}
	if space {
		b.WriteByte(' ')
	}
	return b.String()
}
