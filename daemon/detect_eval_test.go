package daemon

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/schoolwatch/schoolwatch/classify"
	"github.com/schoolwatch/schoolwatch/rules"
)

// corpusConfig is a config for the corpus schools with the built-in rule
// pack, so the detection step runs as a fresh install would.
func corpusConfig(t testing.TB) string {
	t.Helper()
	var b strings.Builder
	b.WriteString("schools:\n")
	for _, s := range classify.CorpusSchools {
		fmt.Fprintf(&b, "  - id: %q\n    name: %q\n    town: %q\n", s.ID, s.Name, s.Town)
		if len(s.Aliases) > 0 {
			fmt.Fprintf(&b, "    aliases: [%s]\n", quoteAll(s.Aliases))
		}
		if ctx := corpusContext[s.ID]; len(ctx) > 0 {
			fmt.Fprintf(&b, "    context: [%s]\n", quoteAll(ctx))
		}
		if len(s.Hashtags) > 0 {
			fmt.Fprintf(&b, "    hashtags: [%s]\n", quoteAll(s.Hashtags))
		}
		fmt.Fprintf(&b, "    leaders: [{ email: head@%s.example, roles: [head, dsl, comms] }]\n", s.ID)
	}
	path := filepath.Join(t.TempDir(), "corpus.yml")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// corpusContext are the places near two corpus schools that posts name
// instead of their towns, configured as an operator would (as rules'
// corpus test does).
var corpusContext = map[string][]string{
	"990001": {"Folkestone", "Hythe", "Cheriton"},
	"990002": {"Dover", "Deal"},
}

func quoteAll(ss []string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = fmt.Sprintf("%q", s)
	}
	return strings.Join(q, ", ")
}

// detectionScores are issue 15's four measures of the detection step.
type detectionScores struct {
	reached, problems         int // problem posts with any finding (mention included) for a right school
	tp, fp, fn                int // (post, school, category) triples
	harmlessEsc, harmless     int // harmless posts given a category finding
	schoolTP, schoolFP, schFN int // (post, school) recognition
}

func (s detectionScores) String() string {
	r := func(a, b int) float64 {
		if b == 0 {
			return 0
		}
		return float64(a) / float64(b)
	}
	return fmt.Sprintf("problem posts reaching the right school %.3f (%d/%d); (post, school, category) recall %.3f precision %.3f; harmless posts escalated %.3f (%d/%d); school recognition precision %.3f recall %.3f",
		r(s.reached, s.problems), s.reached, s.problems, r(s.tp, s.tp+s.fn), r(s.tp, s.tp+s.fp),
		r(s.harmlessEsc, s.harmless), s.harmlessEsc, s.harmless, r(s.schoolTP, s.schoolTP+s.schoolFP), r(s.schoolTP, s.schoolTP+s.schFN))
}

func scoreDetection(p *Plan, examples []classify.Example) detectionScores {
	var s detectionScores
	for _, e := range examples {
		fs := p.detect.Detect(e.Text)
		named := map[string]bool{}
		cats := map[string]bool{} // school\x00category
		for _, f := range fs {
			named[f.School] = true
			if f.Rule != rules.MentionRule {
				cats[f.School+"\x00"+f.Category] = true
			}
		}
		for id := range named {
			if slices.Contains(e.Schools, id) {
				s.schoolTP++
			} else {
				s.schoolFP++
			}
		}
		for _, id := range e.Schools {
			if !named[id] {
				s.schFN++
			}
		}
		if e.Harmless() {
			s.harmless++
			if len(cats) > 0 {
				s.harmlessEsc++
			}
		} else if len(e.Schools) > 0 {
			s.problems++
			if slices.ContainsFunc(e.Schools, func(id string) bool { return named[id] }) {
				s.reached++
			}
		}
		want := map[string]bool{}
		for _, id := range e.Schools {
			for _, c := range e.CategoriesFor(id) {
				want[id+"\x00"+string(c)] = true
			}
		}
		for k := range cats {
			if want[k] {
				s.tp++
			} else {
				s.fp++
			}
		}
		for k := range want {
			if !cats[k] {
				s.fn++
			}
		}
	}
	return s
}

// detectionFloors are the least each measure may be (harmless: the most);
// a zero school floor is not checked.
type detectionFloors struct {
	reach, recall, precision, harmless float64
	schoolPrecision, schoolRecall      float64
}

// measureDetection scores p's detection step on posts, logs it beside the
// rules alone, and fails t for each measure past its floor.
func measureDetection(t *testing.T, p *Plan, posts []classify.Example, name string, fl detectionFloors) {
	t.Helper()
	all := scoreDetection(p, posts)
	rulesOnly := *p
	rulesOnly.detect = newDetector(p.Matcher, nil, nil)
	ro := scoreDetection(&rulesOnly, posts)
	t.Logf("%s, %d posts", name, len(posts))
	t.Logf("rules, model and mentions: %s", all)
	t.Logf("rules and mentions only:   %s", ro)
	r := func(a, b int) float64 { return float64(a) / float64(max(b, 1)) }
	for _, c := range []struct {
		what      string
		got, want float64
		atLeast   bool
	}{
		{"problem posts reaching the right school", r(all.reached, all.problems), fl.reach, true},
		{"triple recall", r(all.tp, all.tp+all.fn), fl.recall, true},
		{"triple precision", r(all.tp, all.tp+all.fp), fl.precision, true},
		{"harmless posts escalated", r(all.harmlessEsc, all.harmless), fl.harmless, false},
		{"school precision", r(all.schoolTP, all.schoolTP+all.schoolFP), fl.schoolPrecision, true},
		{"school recall", r(all.schoolTP, all.schoolTP+all.schFN), fl.schoolRecall, true},
	} {
		if c.atLeast && c.got < c.want || !c.atLeast && c.got > c.want {
			t.Errorf("%s = %.3f, floor %.2f", c.what, c.got, c.want)
		}
	}
}

// TestDetectionOnHeldOutPosts runs the whole detection step (built-in
// rules, model, mentions) on the test split, which no rule, threshold or
// weight was tuned on, and reports issue 15's four measures, with the
// rules alone beside them. The floors sit a little under what was measured.
func TestDetectionOnHeldOutPosts(t *testing.T) {
	test, err := classify.ReadSplit("../classify/testdata/test.txt")
	if err != nil {
		t.Fatal(err)
	}
	p, err := Compile(corpusConfig(t), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	measureDetection(t, p, test, "test split", detectionFloors{
		reach: 0.85, recall: 0.70, precision: 0.62, harmless: 0.16,
		schoolPrecision: 0.95, schoolRecall: 0.86,
	})
}
