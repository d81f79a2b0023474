package classify

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/schoolwatch/schoolwatch/rules"
)

func TestParseLine(t *testing.T) {
	ids := corpusSchoolIDs()
	good := []struct {
		line    string
		schools []string
		cats    []rules.Category
		text    string
	}{
		{"990001|threat|he said he'd bring a knife", []string{"990001"}, []rules.Category{"threat"}, "he said he'd bring a knife"},
		{"990004,990002|pupil-bullying,sexual-images| text ", []string{"990004", "990002"}, []rules.Category{"pupil-bullying", "sexual-images"}, "text"},
		{"-|-|Harbourside café opens", nil, nil, "Harbourside café opens"},
	}
	for _, g := range good {
		e, err := ParseLine(g.line, ids)
		if err != nil {
			t.Errorf("ParseLine(%q): %v", g.line, err)
			continue
		}
		if !slices.Equal(e.Schools, g.schools) || !slices.Equal(e.Categories, g.cats) || e.Text != g.text {
			t.Errorf("ParseLine(%q) = %+v", g.line, e)
		}
		if back, _ := ParseLine(e.Line(), ids); !slices.Equal(back.Categories, e.Categories) || back.Text != e.Text {
			t.Errorf("Line() of %q does not read back: %q", g.line, e.Line())
		}
	}
	bad := map[string]string{
		"no separators":                        "want schools|categories|text",
		"990001|threat":                        "want schools|categories|text",
		"990001|threat|":                       "empty text",
		"990001|threat|a | b":                  "contains '|'",
		"990001|murder|text":                   "unknown",
		"990001|other|text":                    "unknown", // no post is labelled other
		"990001|threat,threat|x":               "listed twice",
		"123456|-|text":                        "unknown",
		"99000x|-|text":                        "not an ID",
		"990001,990001|-|text":                 "listed twice",
		"990001|-|tab\there":                   "tab",
		"990001|-|" + long(5000):               "over",
		"990001|threat,|knife bad":             "unknown",
		"990001|990002:threat|x":               "not one of the post's schools",
		"990001,990002|threat,990001:threat|x": "listed twice",
		"990001,990002|990001:threat,threat|x": "listed twice",
	}
	for line, want := range bad {
		if _, err := ParseLine(line, ids); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseLine(%.40q) = %v, want an error containing %q", line, err, want)
		}
	}
}

// TestPerSchoolCategories: "ID:category" narrows a category to one of a
// post's schools, and the line reads back the same.
func TestPerSchoolCategories(t *testing.T) {
	line := "990002,990004|990002:complaint,990004:media,990002:media,threat|Harbourside fuming, Brookfield praised"
	e, err := ParseLine(line, corpusSchoolIDs())
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		id   string
		cat  rules.Category
		want bool
	}{
		{"990002", "complaint", true}, {"990004", "complaint", false},
		{"990002", "media", true}, {"990004", "media", true},
		{"990002", "threat", true}, {"990004", "threat", true},
		{"990001", "threat", false},
	} {
		if got := e.Wants(c.id, c.cat); got != c.want {
			t.Errorf("Wants(%s, %s) = %v", c.id, c.cat, got)
		}
	}
	if got := rules.Names(e.CategoriesFor("990004")); !slices.Equal(got, []string{"media", "threat"}) {
		t.Errorf("CategoriesFor(990004) = %v", got)
	}
	if !e.Has("complaint") || e.Harmless() {
		t.Errorf("the post as a whole carries complaint")
	}
	back, err := ParseLine(e.Line(), corpusSchoolIDs())
	if err != nil || back.Line() != e.Line() {
		t.Errorf("Line() = %q does not read back (%v)", e.Line(), err)
	}
}

func long(n int) string { return strings.Repeat("a", n) }

func TestReadCorpusReportsEveryBadLine(t *testing.T) {
	in := "# comment\n\n990001|threat|fine\n990001|nope|bad\n-|-|fine too\n990001|threat|\n"
	es, err := ReadCorpus(strings.NewReader(in), "x.txt", corpusSchoolIDs())
	if len(es) != 2 {
		t.Errorf("got %d examples, want the 2 good ones", len(es))
	}
	if err == nil || !strings.Contains(err.Error(), "x.txt:4:") || !strings.Contains(err.Error(), "x.txt:6:") {
		t.Errorf("error = %v, want lines 4 and 6 named", err)
	}
}

func TestSplitOfIsStableAndIgnoresFormatting(t *testing.T) {
	a := SplitOf("Someone said they'd bring a KNIFE to Brookfield!!")
	if b := SplitOf("someone said theyd bring a knife to brookfield"); a != b {
		t.Errorf("split differs with case and punctuation: %s vs %s", a, b)
	}
	counts := map[Split]int{}
	for i := range 3000 {
		counts[SplitOf(strings.Repeat("word ", i%7)+string(rune('a'+i%26))+strings.Repeat("x", i))]++
	}
	for s, want := range map[Split]float64{SplitTrain: 0.70, SplitDev: 0.15, SplitTest: 0.15} {
		if got := float64(counts[s]) / 3000; got < want-0.04 || got > want+0.04 {
			t.Errorf("%s share %.3f, want about %.2f", s, got, want)
		}
	}
}

// TestSplitFilesMatchCorpus: the split files hold exactly the corpus, each
// post in the split its text hashes to. A post added to the corpus without
// re-splitting (go run ./classify/cmd/train -split) fails here.
func TestSplitFilesMatchCorpus(t *testing.T) {
	all, err := ReadCorpusFiles(filepath.Join("..")) // the repository root
	if err != nil {
		t.Fatalf("corpus: %v", err)
	}
	parts, _ := SplitCorpus(all)
	total := 0
	for _, s := range []Split{SplitTrain, SplitDev, SplitTest} {
		got, err := ReadSplit(filepath.Join("testdata", string(s)+".txt"))
		if err != nil {
			t.Fatal(err)
		}
		total += len(got)
		if CorpusHash(got) != CorpusHash(parts[s]) {
			t.Errorf("testdata/%s.txt (%d posts) is not the %s split of the corpus (%d posts): run go run ./classify/cmd/train -split", s, len(got), s, len(parts[s]))
		}
		for _, e := range got {
			if SplitOf(e.Text) != s {
				t.Errorf("%s: post belongs to %s", e.Source, SplitOf(e.Text))
			}
		}
	}
	t.Logf("corpus: %d posts in %d lines; splits hold %d", len(all), len(all), total)
}

// TestCorpusFilesParse: every corpus line parses, and no post repeats
// another's normalised text (a repeat is dropped from the splits, so it is
// a writer's slip). Each problem is named by file and line.
func TestCorpusFilesParse(t *testing.T) {
	all, err := ReadCorpusFiles(filepath.Join(".."))
	if err != nil {
		t.Fatal(err)
	}
	_, dropped := SplitCorpus(all)
	for _, d := range dropped {
		t.Error(d)
	}
	t.Logf("%d posts", len(all))
}
