package classify

import (
	"bytes"
	"compress/gzip"
	"math"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/schoolwatch/schoolwatch/rules"
)

func readSplit(t testing.TB, s Split) []Example {
	t.Helper()
	es, err := ReadSplit(filepath.Join("testdata", string(s)+".txt"))
	if err != nil {
		t.Fatal(err)
	}
	return es
}

// TestBuiltinIsCurrent: the embedded model was made from the split files in
// the repository. Editing a split without retraining fails here.
func TestBuiltinIsCurrent(t *testing.T) {
	m := Builtin()
	meta := m.Meta()
	train, dev := readSplit(t, SplitTrain), readSplit(t, SplitDev)
	if meta.Training.SchoolOnly {
		train = schoolPosts(train)
	}
	dev = schoolPosts(dev)
	if got := CorpusHash(train); got != meta.TrainSHA256 {
		t.Errorf("model was trained on train split %s, testdata/train.txt is %s: run go run ./classify/cmd/train", meta.TrainSHA256[:12], got[:12])
	}
	if got := CorpusHash(dev); got != meta.DevSHA256 {
		t.Errorf("model was calibrated on dev split %s, testdata/dev.txt is %s: run go run ./classify/cmd/train", meta.DevSHA256[:12], got[:12])
	}
	if !slices.Equal(m.Categories(), Categories()) {
		t.Errorf("model categories %v, want %v", m.Categories(), Categories())
	}
}

// TestBuiltinIsReproducible retrains from the split files with the
// embedded model's own settings and compares: a change to featurising,
// masking, normalisation or training that the model file does not reflect
// fails here. On the machine that wrote the file the result is identical;
// another CPU may round math.Exp differently, so a few int8 steps of
// difference are tolerated.
func TestBuiltinIsReproducible(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("retrains the model (seconds; minutes under -race)")
	}
	old := Builtin()
	meta := old.Meta()
	m, err := Train(readSplit(t, SplitTrain), readSplit(t, SplitDev), meta.Features, meta.Training)
	if err != nil {
		t.Fatal(err)
	}
	var a, b bytes.Buffer
	if err := old.Encode(&a); err != nil {
		t.Fatal(err)
	}
	if err := m.Encode(&b); err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Logf("retrained model is identical (%d bytes)", a.Len())
		return
	}
	diff, big := 0, 0
	for i := range m.weights {
		if d := int(m.weights[i]) - int(old.weights[i]); d != 0 {
			diff++
			if d > 2 || d < -2 {
				big++
			}
		}
	}
	t.Logf("retrained model differs: %d of %d weights", diff, len(m.weights))
	if big > 0 || diff > len(m.weights)/1000 {
		t.Errorf("retrained model differs in %d weights (%d by more than 2 steps): run go run ./classify/cmd/train", diff, big)
	}
	for c := range m.thresh {
		if math.Abs(m.thresh[c]-old.thresh[c]) > 0.02 {
			t.Errorf("%s: retrained threshold %.4f, embedded %.4f: run go run ./classify/cmd/train", m.cats[c], m.thresh[c], old.thresh[c])
		}
	}
}

// Floors from the test split of the final corpus (measured: precision
// 0.63, recall 0.82, harmless 0.12, problems 0.92), with a margin: they
// catch a regression, they are not the goal.
const (
	floorPrecision   = 0.55
	floorRecall      = 0.72
	ceilingHarmless  = 0.18
	floorProblemsAny = 0.85
)

// TestTestSplit scores the held-out test split (never used in training or
// calibration) with the embedded model and logs per-category precision and
// recall. The model runs only on posts that name a school, so those are the
// posts measured; posts naming none are logged separately.
func TestTestSplit(t *testing.T) {
	m := Builtin()
	test := readSplit(t, SplitTest)
	school := schoolPosts(test)
	ev := m.Evaluate(school)
	var buf bytes.Buffer
	ev.Write(&buf)
	t.Logf("test split, %d posts that name a school:\n%s", len(school), buf.String())
	var none []Example
	for _, e := range test {
		if len(e.Schools) == 0 {
			none = append(none, e)
		}
	}
	// The model never sees these in the daemon (no school is mentioned);
	// their categories are about other schools.
	en := m.Evaluate(none)
	t.Logf("test split, %d posts that name no configured school: %d given a category", len(none), en.HarmlessFlagged+en.ProblemsFlagged)
	o := ev.Overall
	if o.Precision() < floorPrecision || o.Recall() < floorRecall {
		t.Errorf("(post, category) precision %.2f recall %.2f, floors %.2f / %.2f", o.Precision(), o.Recall(), floorPrecision, floorRecall)
	}
	if h := ratio(ev.HarmlessFlagged, ev.Harmless); h > ceilingHarmless {
		t.Errorf("harmless posts given a category %.2f, ceiling %.2f", h, ceilingHarmless)
	}
	if p := ratio(ev.ProblemsFlagged, ev.Problems); p < floorProblemsAny {
		t.Errorf("problem posts given any category %.2f, floor %.2f", p, floorProblemsAny)
	}
}

func TestScoreIgnoresWhichSchool(t *testing.T) {
	m := Builtin()
	posts := []string{
		"someone in the group chat says he's bringing a knife into %s tomorrow",
		"Teacher at %s arrested on suspicion of assaulting a pupil - Kent Online",
		"absolute joke how %s has handled my son's EHCP, I'm fuming",
	}
	names := []string{"Harbourside Academy", "Brookfield", "St Mary's, Folkestone", "#HarboursideAcademy", "Harbour View School's"}
	for _, p := range posts {
		want := m.Score(strings.Replace(p, "%s", names[0], 1))
		for _, n := range names[1:] {
			got := m.Score(strings.Replace(p, "%s", n, 1))
			for c := range got {
				if math.Abs(got[c].P-want[c].P) > 1e-9 {
					t.Errorf("%q with %q: %s %.4f, with %q: %.4f", p, n, got[c].Category, got[c].P, names[0], want[c].P)
				}
			}
		}
	}
}

func TestForSchoolsMasksConfiguredNames(t *testing.T) {
	base := Builtin()
	kings := rules.School{ID: "1", Name: "Kingsmead Primary School", Town: "Canterbury", Aliases: []string{"Kingsmead"}}
	m := base.ForSchools([]rules.School{kings})
	a := m.Score("a lad said he will stab someone at Kingsmead Primary School in Canterbury")
	b := m.Score("a lad said he will stab someone at Harbourside Academy in Dover")
	for c := range a {
		if a[c].P != b[c].P {
			t.Errorf("%s: %.4f for the configured school, %.4f for a corpus school", a[c].Category, a[c].P, b[c].P)
		}
	}
	// The base model does not know Kingsmead: its words are features there.
	c := base.Score("a lad said he will stab someone at Kingsmead Primary School in Canterbury")
	same := true
	for i := range c {
		same = same && c[i].P == a[i].P
	}
	if same {
		t.Error("ForSchools changed nothing")
	}
	for _, term := range m.TopTerms("they will stab a teacher at kingsmead tomorrow", "threat", 20) {
		if strings.Contains(term.Text, "kingsmead") {
			t.Errorf("TopTerms shows the school's name: %q", term.Text)
		}
	}
}

func TestScoreFindsTheSituation(t *testing.T) {
	m := Builtin()
	cases := []struct {
		text string
		want rules.Category
	}{
		{"Year 10 boy at Brookfield says he's bringing a knife in tomorrow and will stab anyone who grasses", "threat"},
		{"Harbourside Academy teacher charged with sexual activity with a child - Kent Online", "allegation"},
		{"Someone has made a fake Instagram account pretending to be St Mary's Folkestone and is messaging parents", "impersonation"},
	}
	for _, c := range cases {
		scores := m.Score(c.text)
		best := slices.MaxFunc(scores, func(a, b Score) int { return cmpFloat(a.P/a.Threshold, b.P/b.Threshold) })
		var got Score
		for _, s := range scores {
			if s.Category == c.want {
				got = s
			}
		}
		if !got.Possible() || best.Category != c.want {
			t.Errorf("%q: %s %.3f (threshold %.3f); highest relative score %s", c.text, c.want, got.P, got.Threshold, best.Category)
		}
		terms := m.TopTerms(c.text, c.want, 5)
		if len(terms) == 0 {
			t.Errorf("%q: no top terms for %s", c.text, c.want)
		}
		for i := 1; i < len(terms); i++ {
			if terms[i].Weight > terms[i-1].Weight || terms[i].Weight <= 0 {
				t.Errorf("TopTerms not positive and descending: %v", terms)
			}
		}
		t.Logf("%s %.3f: %v", c.want, got.P, terms)
	}
	harmless := "Well done to Harbourside Academy's netball team who killed it at the county finals on Saturday!"
	for _, s := range m.Score(harmless) {
		if s.Possible() {
			t.Errorf("%q: possibly %s (%.3f >= %.3f)", harmless, s.Category, s.P, s.Threshold)
		}
	}
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func TestScoreHostileInput(t *testing.T) {
	m := Builtin()
	for _, text := range []string{"", "   ", "|||", strings.Repeat("a", 100000), strings.Repeat("knife ", 50000), "kn\u200bife \u202eevil", "\xff\xfe\x00"} {
		for _, s := range m.Score(text) {
			if math.IsNaN(s.P) || s.P < 0 || s.P > 1 {
				t.Errorf("Score(%.20q): %s = %v", text, s.Category, s.P)
			}
		}
		m.TopTerms(text, "threat", 5)
	}
	if m.TopTerms("knife", "no-such-category", 5) != nil || m.TopTerms("knife", "threat", 0) != nil {
		t.Error("TopTerms of an unknown category or n=0 returned terms")
	}
}

func TestDecodeRejectsBadFiles(t *testing.T) {
	gz := func(b []byte) []byte {
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		zw.Write(b)
		zw.Close()
		return buf.Bytes()
	}
	var good bytes.Buffer
	if err := Builtin().Encode(&good); err != nil {
		t.Fatal(err)
	}
	raw, err := gzip.NewReader(bytes.NewReader(good.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	var plain bytes.Buffer
	plain.ReadFrom(raw)
	p := plain.Bytes()
	cases := map[string][]byte{
		"not gzip":        []byte("hello"),
		"bad magic":       gz(append([]byte("XXXX"), p[4:]...)),
		"truncated":       gz(p[:len(p)-10]),
		"trailing":        gz(append(slices.Clone(p), 0)),
		"huge header":     gz([]byte("SWLC\xff\xff\xff\x7f")),
		"header not json": gz(append([]byte("SWLC\x02\x00\x00\x00"), "{x"...)),
	}
	for name, b := range cases {
		if _, err := Decode(bytes.NewReader(b)); err == nil {
			t.Errorf("%s: decoded without error", name)
		}
	}
	if _, err := Decode(bytes.NewReader(good.Bytes())); err != nil {
		t.Errorf("re-encoded builtin: %v", err)
	}
}
