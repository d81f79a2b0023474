package rules

import (
	"bufio"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
)

// Explain writes a human-readable report of how text is read: its
// normalised words, the schools it mentions and through which alias, the
// near misses (an ambiguous alias with no context nearby), and for every
// rule whether it fires, shown as the query tree with each part marked. It
// is what `schoolwatch explain` prints; users tune rules with it. Rules are
// evaluated even when no school is mentioned, to show what would fire.
func (m *Matcher) Explain(w io.Writer, text string) error {
	bw := bufio.NewWriter(w)
	sc := m.explainScan(text)
	defer m.put(sc)
	toks := sc.tok.toks
	quoteText := func(s, e int32) string {
		return strconv.Quote(text[toks[s].start:toks[e-1].end])
	}
	norm := strings.TrimSuffix(string(sc.tok.norm), " ")
	if len(norm) > 300 {
		norm = norm[:300] + " …"
	}
	fmt.Fprintf(bw, "Text: %d bytes, %d words\nNormalised: %s\n\n", len(text), len(toks), norm)

	var order []int32
	m.schoolOrder(sc, &order)
	if len(order) == 0 {
		fmt.Fprintln(bw, "Schools mentioned: none (rules cannot fire)")
	} else {
		fmt.Fprintln(bw, "Schools mentioned:")
	}
	for _, s := range order {
		info := m.schools[s]
		fmt.Fprintf(bw, "  %s %s (%s)\n", info.ID, info.Name, info.Town)
		for _, mn := range sc.mentions {
			if mn.school != s {
				continue
			}
			ref := m.refFor(mn.pat, s)
			fmt.Fprintf(bw, "    %s at bytes %d-%d: %s %q", quoteText(mn.start, mn.end), toks[mn.start].start, toks[mn.end-1].end, ref.kind, m.pats[mn.pat].text)
			if ref.source != "" && Normalize(ref.source) != m.pats[mn.pat].text {
				fmt.Fprintf(bw, " (from %q)", ref.source)
			}
			if ref.amb != ambClear {
				fmt.Fprintf(bw, "; ambiguous (%s), counted because %s", ref.amb, m.contextFound(sc, s, mn))
			}
			fmt.Fprintln(bw)
		}
	}
	var rejected []miss
	sc.misses = slices.DeleteFunc(sc.misses, func(ms miss) bool {
		if ms.reason != "" {
			rejected = append(rejected, ms)
		}
		return ms.reason != ""
	})
	if len(rejected) > 0 {
		fmt.Fprintln(bw, "\nNot a school (a name that goes on, or a school of that name elsewhere):")
		for _, ms := range rejected {
			info := m.schools[ms.school]
			fmt.Fprintf(bw, "  %s %s: %s at bytes %d-%d is %s\n", info.ID, info.Name, quoteText(ms.start, ms.end),
				toks[ms.start].start, toks[ms.end-1].end, ms.reason)
		}
	}
	if len(sc.misses) > 0 {
		fmt.Fprintln(bw, "\nNear misses (ambiguous alias, no context within", ContextWindow, "words):")
		for i, ms := range sc.misses {
			if i == maxMisses {
				// A dedication such as "st marys" is shared by hundreds of
				// schools at national scale; the first few make the point.
				fmt.Fprintf(bw, "  … and %d more\n", len(sc.misses)-maxMisses)
				break
			}
			info := m.schools[ms.school]
			fmt.Fprintf(bw, "  %s %s: %s at bytes %d-%d is %s %q, %s; needs one of [%s] nearby\n",
				info.ID, info.Name, quoteText(ms.start, ms.end), toks[ms.start].start, toks[ms.end-1].end,
				ms.ref.kind, m.pats[ms.pat].text, ms.ref.amb, m.contextList(ms.school))
		}
	}

	fmt.Fprintln(bw, "\nRules:")
	m.findTerms(sc)
	for _, r := range m.rules {
		ok, _ := m.eval(sc, r.root)
		verdict := "no match"
		switch {
		case ok && len(order) > 0:
			verdict = "FIRES"
		case ok:
			verdict = "would fire, but no school is mentioned"
		}
		fmt.Fprintf(bw, "  %s [%s, %s, guidance %s]: %s\n", r.ID, r.Category, r.Severity, r.Guidance, verdict)
		m.explainNode(bw, sc, text, r.query, r.root, "      ")
	}
	findings := m.Match(text)
	fmt.Fprintf(bw, "\nFindings: %d\n", len(findings))
	writeFindings(bw, text, findings)
	return bw.Flush()
}

// maxMisses caps the near misses Explain lists.
const maxMisses = 20

// refFor returns school s's reading of pattern p.
func (m *Matcher) refFor(p, s int32) aliasRef {
	for _, r := range m.pats[p].refs {
		if r.school == s {
			return r
		}
	}
	return aliasRef{}
}

func (m *Matcher) contextFound(sc *scratch, s int32, mn mention) string {
	h := hit{pat: mn.pat, start: mn.start, end: mn.end}
	for _, c := range sc.ctxHits {
		if c.start >= h.start && c.end <= h.end || c.end <= h.start-ContextWindow || c.start >= h.end+ContextWindow {
			continue
		}
		for _, p := range m.schools[s].ctx {
			if p == c.pat {
				return fmt.Sprintf("context %q is within %d words", m.pats[p].text, ContextWindow)
			}
		}
	}
	return "context is near"
}

func (m *Matcher) contextList(s int32) string {
	var names []string
	for _, p := range m.schools[s].ctx {
		names = append(names, m.pats[p].text)
	}
	return strings.Join(names, ", ")
}

// explainNode prints one query node with whether it holds, and for terms
// where they matched.
func (m *Matcher) explainNode(w io.Writer, sc *scratch, text string, q *Query, n *cnode, indent string) {
	ok, spans := m.eval(sc, n)
	mark := "✗"
	if ok {
		mark = "✓"
	}
	toks := sc.tok.toks
	if q.List != "" && n.op == OpOr {
		// A term list can hold dozens of words: show which matched.
		fmt.Fprintf(w, "%s%s @%s (any of %d)\n", indent, mark, q.List, len(n.kids))
		for i, k := range n.kids {
			if hit, _ := m.eval(sc, k); hit {
				m.explainNode(w, sc, text, q.Kids[i], k, indent+"  ")
			}
		}
		return
	}
	switch n.op {
	case OpTerm:
		var at []string
		for _, s := range spans {
			b, e := toks[s.start].start, toks[s.end-1].end
			at = append(at, fmt.Sprintf("%q@%d", text[b:e], b))
			if len(at) == 5 {
				at = append(at, "…")
				break
			}
		}
		fmt.Fprintf(w, "%s%s %s", indent, mark, q.Term.Text)
		if len(at) > 0 {
			fmt.Fprintf(w, ": %s", strings.Join(at, ", "))
		}
		fmt.Fprintln(w)
		return
	case OpNot:
		fmt.Fprintf(w, "%s%s NOT (holds when the part below is absent)\n", indent, mark)
	case OpAnd:
		fmt.Fprintf(w, "%s%s AND (all of)\n", indent, mark)
	case OpOr:
		fmt.Fprintf(w, "%s%s OR (any of)\n", indent, mark)
	case OpNear:
		fmt.Fprintf(w, "%s%s NEAR/%d (at most %d words between)\n", indent, mark, n.n, n.n)
	}
	for i, k := range n.kids {
		m.explainNode(w, sc, text, q.Kids[i], k, indent+"  ")
	}
}

// ExplainBrief writes the short form of Explain, for a screen: the verdict
// first (the findings, with their excerpts), then one line per school
// mentioned, the count of near misses, each rule that fires with the words
// that made it fire, and the ids of the rules that do not. `schoolwatch
// explain --brief` prints it; Explain's full report stays the default.
func (m *Matcher) ExplainBrief(w io.Writer, text string) error {
	bw := bufio.NewWriter(w)
	sc := m.explainScan(text)
	defer m.put(sc)
	toks := sc.tok.toks

	findings := m.Match(text)
	fmt.Fprintf(bw, "Findings: %d\n", len(findings))
	writeFindings(bw, text, findings)

	var order []int32
	m.schoolOrder(sc, &order)
	if len(order) == 0 {
		fmt.Fprintln(bw, "Schools mentioned: none (rules cannot fire)")
	} else {
		fmt.Fprintln(bw, "Schools mentioned:")
	}
	for i, s := range order {
		if i == maxBriefLines {
			fmt.Fprintf(bw, "  … and %d more\n", len(order)-maxBriefLines)
			break
		}
		info := m.schools[s]
		fmt.Fprintf(bw, "  %s %s (%s)", info.ID, info.Name, info.Town)
		for _, mn := range sc.mentions {
			if mn.school == s {
				fmt.Fprintf(bw, " as %q", text[toks[mn.start].start:toks[mn.end-1].end])
				break
			}
		}
		fmt.Fprintln(bw)
	}
	if n := len(sc.misses); n > 0 {
		fmt.Fprintf(bw, "Near misses: %d (an ambiguous alias with no context nearby; the full explain lists them)\n", n)
	}

	m.findTerms(sc)
	var fires, would, none []string
	for _, r := range m.rules {
		ok, _ := m.eval(sc, r.root)
		if !ok {
			none = append(none, r.ID)
			continue
		}
		var words []string
		m.positiveHits(sc, text, r.root, &words)
		line := fmt.Sprintf("%s [%s, %s]", r.ID, r.Category, r.Severity)
		if len(words) > 0 {
			line += " on " + strings.Join(words, ", ")
		}
		if len(order) > 0 {
			fires = append(fires, line)
		} else {
			would = append(would, line)
		}
	}
	list := func(title string, lines []string) {
		if len(lines) == 0 {
			return
		}
		fmt.Fprintln(bw, title)
		for i, l := range lines {
			if i == maxBriefLines {
				fmt.Fprintf(bw, "  … and %d more\n", len(lines)-maxBriefLines)
				break
			}
			fmt.Fprintf(bw, "  %s\n", l)
		}
	}
	list("Rules that fire:", fires)
	list("Rules that would fire, but no school is mentioned:", would)
	if len(none) > 0 {
		fmt.Fprintf(bw, "Rules with no match (%d): %s\n", len(none), strings.Join(none, ", "))
	}
	return bw.Flush()
}

// maxBriefLines caps each list in ExplainBrief, to keep it to a screen.
const maxBriefLines = 8

// maxBriefWords caps the words ExplainBrief quotes for one rule.
const maxBriefWords = 6

// positiveHits appends, once each, the words of text that matched a term
// of the query that is not under a NOT: what made the rule fire.
func (m *Matcher) positiveHits(sc *scratch, text string, n *cnode, out *[]string) {
	if len(*out) > maxBriefWords { // full, and marked so with "…"
		return
	}
	switch n.op {
	case OpNot:
		return
	case OpTerm:
		ok, spans := m.eval(sc, n)
		if !ok {
			return
		}
		toks := sc.tok.toks
		for _, s := range spans {
			w := strconv.Quote(text[toks[s.start].start:toks[s.end-1].end])
			if slices.Contains(*out, w) {
				continue
			}
			if len(*out) == maxBriefWords {
				*out = append(*out, "…")
				return
			}
			*out = append(*out, w)
		}
		return
	}
	for _, k := range n.kids {
		m.positiveHits(sc, text, k, out)
	}
}

// writeFindings writes explain's finding lines: one per (school, rule) with
// the excerpt, matched words in brackets.
func writeFindings(bw *bufio.Writer, text string, findings []Finding) {
	for _, f := range findings {
		fmt.Fprintf(bw, "  school %s, rule %s (%s, %s): ", f.School, f.Rule, f.Category, f.Severity)
		for _, fr := range Excerpt(text, f.Evidence, 160) {
			if fr.Hit {
				fmt.Fprintf(bw, "[%s]", fr.Text)
			} else {
				bw.WriteString(fr.Text)
			}
		}
		fmt.Fprintln(bw)
	}
}

// explainScan reads text as a report needs it: tokenised, with its school
// mentions resolved and the near misses kept. The caller puts sc back.
func (m *Matcher) explainScan(text string) *scratch {
	sc := m.get()
	sc.explain = true
	m.scan(sc, text)
	m.resolve(sc)
	return sc
}
