package classify

import (
	"cmp"
	"fmt"
	"io"
	"slices"

	"github.com/schoolwatch/schoolwatch/rules"
)

// Counts are true positives, false positives and false negatives.
type Counts struct{ TP, FP, FN int }

// Precision is TP/(TP+FP), or 0 when nothing was predicted.
func (c Counts) Precision() float64 { return ratio(c.TP, c.TP+c.FP) }

// Recall is TP/(TP+FN), or 0 when there was nothing to find.
func (c Counts) Recall() float64 { return ratio(c.TP, c.TP+c.FN) }

func ratio(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// Evaluation is how the model's "possibly" findings compare with the labels
// of a set of posts.
type Evaluation struct {
	Categories  []rules.Category
	PerCategory []Counts // in Categories order
	Overall     Counts   // over (post, category) pairs
	Posts       int
	// Harmless posts (no category) and how many of them were given one.
	Harmless, HarmlessFlagged int
	// Problem posts (at least one category) and how many got any category.
	Problems, ProblemsFlagged int
}

// Evaluate scores every example and counts the model's findings against its
// labels.
func (m *Model) Evaluate(examples []Example) Evaluation {
	ev := Evaluation{Categories: m.Categories(), PerCategory: make([]Counts, m.k), Posts: len(examples)}
	for _, e := range examples {
		any := false
		for c, s := range m.Score(e.Text) {
			want, got := e.Has(s.Category), s.Possible()
			any = any || got
			switch {
			case want && got:
				ev.PerCategory[c].TP++
			case got:
				ev.PerCategory[c].FP++
			case want:
				ev.PerCategory[c].FN++
			}
		}
		if e.Harmless() {
			ev.Harmless++
			if any {
				ev.HarmlessFlagged++
			}
		} else {
			ev.Problems++
			if any {
				ev.ProblemsFlagged++
			}
		}
	}
	for _, c := range ev.PerCategory {
		ev.Overall.TP += c.TP
		ev.Overall.FP += c.FP
		ev.Overall.FN += c.FN
	}
	return ev
}

// Write prints the evaluation as a table.
func (ev Evaluation) Write(w io.Writer) {
	fmt.Fprintf(w, "%-22s %4s %4s %4s %6s %6s\n", "category", "tp", "fp", "fn", "prec", "recall")
	for i, c := range ev.Categories {
		n := ev.PerCategory[i]
		fmt.Fprintf(w, "%-22s %4d %4d %4d %6.2f %6.2f\n", c, n.TP, n.FP, n.FN, n.Precision(), n.Recall())
	}
	o := ev.Overall
	fmt.Fprintf(w, "%-22s %4d %4d %4d %6.2f %6.2f\n", "(post, category)", o.TP, o.FP, o.FN, o.Precision(), o.Recall())
	fmt.Fprintf(w, "posts %d; harmless given a category %d/%d (%.2f); problems given any category %d/%d (%.2f)\n",
		ev.Posts, ev.HarmlessFlagged, ev.Harmless, ratio(ev.HarmlessFlagged, ev.Harmless),
		ev.ProblemsFlagged, ev.Problems, ratio(ev.ProblemsFlagged, ev.Problems))
}

// AveragePrecision measures how well the model ranks, whatever the
// thresholds: the average precision of all (post, category) pairs ranked
// by probability (micro), and the mean over categories with a positive
// (macro). It is for comparing training settings on the dev split.
func (m *Model) AveragePrecision(examples []Example) (micro, macro float64) {
	type point struct {
		p   float64
		pos bool
	}
	all := []point{}
	per := make([][]point, m.k)
	for _, e := range examples {
		for c, s := range m.Score(e.Text) {
			pt := point{s.P, e.Has(s.Category)}
			all = append(all, pt)
			per[c] = append(per[c], pt)
		}
	}
	ap := func(pts []point) (float64, bool) {
		slices.SortStableFunc(pts, func(a, b point) int { return cmp.Compare(b.p, a.p) })
		npos := 0
		for _, pt := range pts {
			if pt.pos {
				npos++
			}
		}
		if npos == 0 {
			return 0, false
		}
		sum, tp := 0.0, 0
		for i, pt := range pts {
			if pt.pos {
				tp++
				sum += float64(tp) / float64(i+1)
			}
		}
		return sum / float64(npos), true
	}
	micro, _ = ap(all)
	n := 0
	for _, pts := range per {
		if v, ok := ap(pts); ok {
			macro += v
			n++
		}
	}
	return micro, macro / float64(max(n, 1))
}
