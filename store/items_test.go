package store

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// TestEditsAreRechecked: an item recorded again with another content is an
// edit; only the (rule, school) pairs it never had are queued, under a key
// naming the version, and a later edit with nothing new queues nothing.
func TestEditsAreRechecked(t *testing.T) {
	ctx := context.Background()
	s, _ := open(t)
	now := time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)
	pend := func(rule, school, to string) Pending {
		return Pending{Recipient: to, SchoolID: school, RuleID: rule, Delivery: "immediate", Payload: []byte("{}")}
	}
	item := func(content string, fs ...Finding) Item {
		it := Item{Key: "g:f:77", AltKeys: []string{"l:x.org:" + content}, FeedID: "f", Content: content, Findings: fs, Alert: true}
		for _, f := range fs {
			it.Pending = append(it.Pending, pend(f.Rule, f.School, "head@x.org"))
		}
		return it
	}
	record := func(it Item) Outcome {
		t.Helper()
		out, err := s.Record(ctx, now, []Item{it})
		if err != nil {
			t.Fatal(err)
		}
		return out[0]
	}
	pendingKeys := func() []string {
		ps, err := s.ListPending(ctx, "immediate")
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, p := range ps {
			out = append(out, p.ItemKey+" "+p.RuleID+" "+p.SchoolID)
		}
		return out
	}

	// "Parents evening": nothing to report.
	if o := record(item("c1")); !o.New || o.Edited {
		t.Fatalf("first sight: %+v", o)
	}
	// The same text again: a duplicate.
	if o := record(item("c1")); o.New || o.Edited {
		t.Fatalf("unchanged: %+v", o)
	}
	// Edited into a threat about school 1.
	threat := Finding{Rule: "threat", School: "1"}
	o := record(item("c2", threat))
	if o.New || !o.Edited || !slices.Equal(o.Added, []Finding{threat}) {
		t.Fatalf("edit into a threat: %+v", o)
	}
	if got, want := pendingKeys(), []string{"g:f:77#c2 threat 1"}; !slices.Equal(got, want) {
		t.Fatalf("pending %v, want %v", got, want)
	}
	// Edited again, with the same finding and a new one.
	complaint := Finding{Rule: "complaint", School: "1"}
	o = record(item("c3", threat, complaint))
	if !o.Edited || !slices.Equal(o.Added, []Finding{complaint}) {
		t.Fatalf("edit adding a complaint: %+v", o)
	}
	if got, want := pendingKeys(), []string{"g:f:77#c2 threat 1", "g:f:77#c3 complaint 1"}; !slices.Equal(got, want) {
		t.Fatalf("pending %v, want %v", got, want)
	}
	// Back to the threat alone, or to the first text: nothing new.
	for _, it := range []Item{item("c4", threat), item("c1")} {
		if o := record(it); !o.Edited || len(o.Added) != 0 {
			t.Errorf("edit with nothing new: %+v", o)
		}
	}
	if n := len(pendingKeys()); n != 2 {
		t.Errorf("%d pending rows, want still 2", n)
	}
	// An edit whose text another feed already carried (its link and text
	// are recorded) queues nothing: that copy raised the findings.
	if _, err := s.Record(ctx, now, []Item{{Key: "g:other:1", AltKeys: []string{"l:x.org:c5"}, FeedID: "other", Content: "c5", Findings: []Finding{{Rule: "threat", School: "2"}}, Alert: true}}); err != nil {
		t.Fatal(err)
	}
	if o := record(item("c5", Finding{Rule: "threat", School: "2"})); !o.Edited || len(o.Added) != 0 {
		t.Errorf("edit into another feed's known text: %+v", o)
	}
	// An old item (not alerting) is rechecked but queues nothing.
	old := item("c6", Finding{Rule: "threat", School: "3"})
	old.Alert = false
	if o := record(old); !o.Edited || len(o.Added) != 0 {
		t.Errorf("edit of an item too old to alert: %+v", o)
	}
	if n := len(pendingKeys()); n != 2 {
		t.Errorf("%d pending rows, want still 2", n)
	}
}

// TestUpgradeKeepsItemsAndFeedState opens a database written by the schema
// before fingerprints: its rows survive, and an item recorded then is not
// taken for an edit the first time it is seen again.
func TestUpgradeKeepsItemsAndFeedState(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "old.db")
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{`CREATE TABLE schema_version (version INTEGER NOT NULL)`, migrations[0], migrations[1],
		`INSERT INTO schema_version (version) VALUES (1), (2)`,
		`INSERT INTO seen_items (key, feed_id, first_seen, published) VALUES ('g:f:1', 'f', 1, 1)`,
		`INSERT INTO feed_state (feed_id, etag, failures) VALUES ('f', '"v1"', 2)`} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	db.Close()

	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	fs, ok, err := s.FeedState(ctx, "f")
	if err != nil || !ok || fs.ETag != `"v1"` || fs.Failures != 2 || fs.BodyHash != "" {
		t.Fatalf("feed state after upgrade: %+v ok=%v err=%v", fs, ok, err)
	}
	p := Pending{Recipient: "head@x.org", SchoolID: "1", RuleID: "threat", Delivery: "immediate", Payload: []byte("{}")}
	it := Item{Key: "g:f:1", FeedID: "f", Content: "c1", Findings: []Finding{{Rule: "threat", School: "1"}}, Alert: true, Pending: []Pending{p}}
	out, err := s.Record(ctx, time.Now(), []Item{it})
	if err != nil || out[0].New || out[0].Edited {
		t.Fatalf("first sight after the upgrade: %+v err=%v", out, err)
	}
	it.Content = "c2"
	it.Findings = append(it.Findings, Finding{Rule: "complaint", School: "1"})
	it.Pending = append(it.Pending, Pending{Recipient: "head@x.org", SchoolID: "1", RuleID: "complaint", Delivery: "immediate", Payload: []byte("{}")})
	if out, err = s.Record(ctx, time.Now(), []Item{it}); err != nil || !out[0].Edited || !slices.Equal(out[0].Added, []Finding{{Rule: "complaint", School: "1"}}) {
		t.Fatalf("an edit after the upgrade: %+v err=%v", out, err)
	}
	// The body hash round-trips.
	fs.BodyHash = "abc"
	if err := s.PutFeedState(ctx, fs); err != nil {
		t.Fatal(err)
	}
	if got, _, _ := s.FeedState(ctx, "f"); got.BodyHash != "abc" {
		t.Errorf("body hash %q", got.BodyHash)
	}
}

// TestSameStoryUnderNewGUIDs: the same link and text under a new GUID,
// from another feed or from a feed that churns its GUIDs, is the story
// already seen and queues nothing again; other text under the same link
// is a new post.
func TestSameStoryUnderNewGUIDs(t *testing.T) {
	ctx := context.Background()
	s, _ := open(t)
	p := Pending{Recipient: "head@x.org", SchoolID: "1", RuleID: "threat", Delivery: "immediate", Payload: []byte("{}")}
	rec := func(key, feed, story string) bool {
		t.Helper()
		isNew, err := s.RecordItems(ctx, time.Now(), []Item{{Key: key, AltKeys: []string{"l:x.org:" + story}, FeedID: feed, Content: story, Alert: true, Pending: []Pending{p}}})
		if err != nil {
			t.Fatal(err)
		}
		return isNew[0]
	}
	if !rec("g:f:1", "f", "link+text1") {
		t.Fatal("first item not new")
	}
	for poll := 2; poll < 5; poll++ {
		if rec(fmt.Sprintf("g:f:%d", poll), "f", "link+text1") {
			t.Errorf("poll %d: the same story under a churned GUID is new", poll)
		}
	}
	if rec("g:g:1", "g", "link+text1") {
		t.Error("the same story from another feed is new")
	}
	if !rec("g:f:9", "f", "link+text2") {
		t.Error("new text under the same link is not new")
	}
	if ps, _ := s.ListPending(ctx, "immediate"); len(ps) != 2 {
		t.Errorf("%d pending rows, want 2 (one per story)", len(ps))
	}
}
