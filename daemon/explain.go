package daemon

import (
	"fmt"
	"io"
	"strings"

	"github.com/schoolwatch/schoolwatch/rules"
)

// ExplainDetection writes, after the matcher's own report, what the rest
// of the detection step makes of text: the learned model's reading for the
// categories the rules did not find, with the words that weigh most, and
// the mention a post gets when nothing else is found. Its lines are added
// to explain's report, which keeps its own sections as they were.
func (p *Plan) ExplainDetection(w io.Writer, text string) error {
	fs := p.detect.Detect(text)
	switch {
	case p.Model == nil:
		fmt.Fprintln(w, "Model: off (model_builtin: false)")
	case len(fs) == 0:
		fmt.Fprintln(w, "Model: not run (the text names no configured school)")
	default:
		found := map[string]bool{}
		for _, f := range fs {
			if !strings.HasPrefix(f.Rule, rules.PossiblyPrefix) && f.Rule != rules.MentionRule {
				found[f.Category] = true
			}
		}
		fmt.Fprintln(w, "Model (possible matches, one severity lower, for categories the rules did not find):")
		n := 0
		for _, s := range p.Model.Score(text) {
			if !s.Possible() {
				continue
			}
			n++
			if found[string(s.Category)] {
				fmt.Fprintf(w, "  %s: p %.2f (threshold %.2f), already found by a rule\n", s.Category, s.P, s.Threshold)
				continue
			}
			var terms []string
			for _, t := range p.Model.TopTerms(text, s.Category, 6) {
				terms = append(terms, fmt.Sprintf("%q", t.Text))
			}
			fmt.Fprintf(w, "  possibly: %s: p %.2f (threshold %.2f), on %s\n", s.Category, s.P, s.Threshold, strings.Join(terms, ", "))
		}
		if n == 0 {
			fmt.Fprintln(w, "  no category reaches its threshold")
		}
	}
	for _, f := range fs {
		if f.Rule == rules.MentionRule {
			fmt.Fprintf(w, "Mention: school %s (no rule or model finding; goes to the mentions digest)\n", f.School)
		}
	}
	return nil
}
