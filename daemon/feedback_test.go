package daemon

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/schoolwatch/schoolwatch/classify"
	"github.com/schoolwatch/schoolwatch/store"
)

// TestFeedbackRetrainMovesThreshold: posts a head marked "not relevant"
// (a school play and a sports fixture written in threat words) come out
// of FeedbackExamples as harmless corpus lines about the school; split as
// the training command splits the corpus and added to it, they move the
// threat category's calibrated threshold, and a marked post the model
// found possible before is no longer possible after.
func TestFeedbackRetrainMovesThreshold(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("retrains the model twice (seconds; minutes under -race)")
	}
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(t.TempDir(), "sw.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	now := time.Now()
	var in []store.Incident
	plays := []string{"Year 6 at St Mary's Folkestone will kill it in the school play, a murder mystery where the butler gets stabbed",
		"St Mary's Folkestone football team shot down Hythe 4-0 and killed it in the second half",
		"St Mary's Folkestone drama club: tickets for 'The Bomb Squad' comedy, our kids will blow you away",
		"Proud of St Mary's Folkestone: their bake-off cake was to die for, the judges were knocked dead",
		"St Mary's Folkestone archery club shoots for the county title, aiming to kill the competition"}
	for i := range 40 {
		text := fmt.Sprintf("%s (week %d)", plays[i%len(plays)], i)
		in = append(in, store.Incident{SchoolID: "990001", SchoolName: "St Mary's", ItemKey: fmt.Sprintf("k:%d", i), Recipient: "head@example.org",
			Category: "threat", Severity: "critical", Findings: "threat", Title: "Post", Text: text})
	}
	if err := st.RecordIncidents(ctx, now, in); err != nil {
		t.Fatal(err)
	}
	for _, i := range in {
		if err := st.ActOnIncident(ctx, now, i.SchoolID, i.ItemKey, i.Recipient, store.StatusNotRelevant, "", time.Time{}); err != nil {
			t.Fatal(err)
		}
	}
	fb, err := FeedbackExamples(ctx, st)
	if err != nil {
		t.Fatal(err)
	}
	if len(fb) != 40 || !fb[0].Harmless() || !slices.Equal(fb[0].Schools, []string{"990001"}) || !strings.Contains(fb[0].Text, "school play") {
		t.Fatalf("feedback examples = %d, first %+v", len(fb), fb[0])
	}
	train, err := classify.ReadSplit("../classify/testdata/train.txt")
	if err != nil {
		t.Fatal(err)
	}
	dev, err := classify.ReadSplit("../classify/testdata/dev.txt")
	if err != nil {
		t.Fatal(err)
	}
	meta := classify.Builtin().Meta()
	before, err := classify.Train(train, dev, meta.Features, meta.Training)
	if err != nil {
		t.Fatal(err)
	}
	train2, dev2 := slices.Clone(train), slices.Clone(dev)
	for _, e := range fb {
		switch classify.SplitOf(e.Text) {
		case classify.SplitTrain:
			train2 = append(train2, e)
		case classify.SplitDev:
			dev2 = append(dev2, e)
		}
	}
	after, err := classify.Train(train2, dev2, meta.Features, meta.Training)
	if err != nil {
		t.Fatal(err)
	}
	b, a := before.Threshold("threat"), after.Threshold("threat")
	t.Logf("threat threshold: %.4f before, %.4f after %d not-relevant examples", b, a, len(fb))
	if a == b {
		t.Errorf("the threat threshold did not move (%.4f)", a)
	}
	var sb, sa float64
	for _, s := range before.Score(fb[0].Text) {
		if s.Category == "threat" {
			sb = s.P
		}
	}
	for _, s := range after.Score(fb[0].Text) {
		if s.Category == "threat" {
			sa = s.P
		}
	}
	t.Logf("threat score of a marked post: %.4f before, %.4f after", sb, sa)
	if sb < b || sa >= a {
		t.Errorf("a marked post scores %.4f (threshold %.4f) before and %.4f (threshold %.4f) after; want possible before, not after", sb, b, sa, a)
	}
}
