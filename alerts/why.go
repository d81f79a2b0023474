package alerts

import (
	"fmt"
	"slices"
	"strings"

	"github.com/schoolwatch/schoolwatch/rules"
)

// maxWhyWords caps the words quoted for each rule in "why".
const maxWhyWords = 6

// why says in plain words why a post is in the mail: the words of the post
// that named the school, the words each keyword rule looked for (and the
// rule's id), and for a finding of the learned model that it is the model's
// reading, not a rule's:
//
//	It names the school as "St Mary's" and says "going to hurt", which the
//	"threat" rule looks for.
//
// A payload written before the post's own words were kept falls back on the
// rule's matched terms, without query syntax.
func why(e Entry) string {
	var names []string
	for _, a := range e.Rules {
		for _, n := range a.Names {
			names = appendFold(names, n)
		}
	}
	// Rules that quote the same words are named together.
	type quote struct {
		verb  string
		words []string
		rules []string
	}
	var says []quote
	var possibly []string
	var bare []string // rules with nothing to quote
	for _, a := range e.Rules {
		if strings.HasPrefix(a.RuleID, rules.PossiblyPrefix) {
			possibly = append(possibly, label(a.Category))
			continue
		}
		verb, words := "says", a.Says
		if len(a.Names) == 0 && len(a.Says) == 0 {
			verb, words = "matched", plainTerms(a.Matched)
		}
		if len(words) == 0 {
			if a.RuleID != rules.MentionRule {
				bare = append(bare, a.RuleID)
			}
			continue
		}
		if i := slices.IndexFunc(says, func(q quote) bool { return q.verb == verb && slices.Equal(q.words, words) }); i >= 0 {
			says[i].rules = append(says[i].rules, a.RuleID)
			continue
		}
		says = append(says, quote{verb: verb, words: words, rules: []string{a.RuleID}})
	}
	var b strings.Builder
	switch {
	case len(names) > 0:
		b.WriteString("It names the school as " + quoteList(names))
	default:
		b.WriteString("It mentions the school")
	}
	for i, q := range says {
		if i == 0 {
			b.WriteString(" and ")
		} else {
			b.WriteString("; it also ")
		}
		looks := "rule looks"
		if len(q.rules) > 1 {
			looks = "rules look"
		}
		fmt.Fprintf(&b, "%s %s, which the %s %s for", q.verb, quoteList(q.words), andList(q.rules), looks)
	}
	b.WriteString(".")
	if len(bare) > 0 {
		fmt.Fprintf(&b, " It matched the %s rule%s.", andList(bare), plural(len(bare)))
	}
	if len(possibly) > 0 {
		what := quoteList(possibly)
		if len(says) > 0 || len(bare) > 0 {
			fmt.Fprintf(&b, " schoolwatch's learned model also puts it under %s: that is the model's reading, not a keyword rule's, so read the post before acting on it.", what)
		} else {
			fmt.Fprintf(&b, " No keyword rule matched it, but schoolwatch's learned model puts it under %s: that is the model's reading, so read the post before acting on it.", what)
		}
	}
	return b.String()
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// andList joins words: "a", "a and b", "a, b and c".
func andList(ws []string) string {
	if len(ws) <= 1 {
		return strings.Join(ws, "")
	}
	return strings.Join(ws[:len(ws)-1], ", ") + " and " + ws[len(ws)-1]
}

// quoteList quotes up to maxWhyWords words: `"a", "b" and "c"`.
func quoteList(ws []string) string {
	if len(ws) > maxWhyWords {
		ws = ws[:maxWhyWords]
	}
	q := make([]string, len(ws))
	for i, w := range ws {
		q[i] = "\u201c" + w + "\u201d"
	}
	return andList(q)
}

// plainTerms are a rule's matched terms without query syntax: no quotes,
// no wildcard stars.
func plainTerms(ts []string) []string {
	var out []string
	for _, t := range ts {
		t = strings.TrimSpace(strings.NewReplacer(`"`, "", "*", "").Replace(t))
		out = appendFold(out, SanitizeText(t, maxWordsLen))
	}
	return out
}
