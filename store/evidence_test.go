package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"testing"
	"time"
)

// TestEvidenceKeptWithFindingsAndPurged: an item that queues findings has
// its evidence kept under the pending rows' key, with the SHA-256 of its
// exact content; an item that queues nothing keeps none; an edit keeps the
// new version under the version's key and leaves the first capture as it
// was; the retention purge removes the records.
func TestEvidenceKeptWithFindingsAndPurged(t *testing.T) {
	ctx := context.Background()
	s, _ := open(t)
	now := time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)
	pub := now.Add(-time.Hour)
	p := Pending{Recipient: "head@x.org", SchoolID: "1", RuleID: "threat", Delivery: "immediate", Payload: []byte("{}")}
	ev := &Evidence{FeedID: "f", FeedName: "Forum", Title: "Warning", Text: "going to hurt\r\nsomeone \u202e", Author: "anon", Link: "https://x.example/1",
		Published: pub, Dated: true, ResponseDate: "Wed, 25 Nov 2026 09:00:00 GMT", ResponseETag: `"v1"`}
	items := []Item{
		{Key: "g:f:1", FeedID: "f", Content: "c1", Findings: []Finding{{Rule: "threat", School: "1"}}, Alert: true, Pending: []Pending{p}, Evidence: ev},
		{Key: "g:f:2", FeedID: "f", Content: "c2", Alert: true, Evidence: &Evidence{FeedID: "f", Title: "quiet"}}, // no findings
	}
	if _, err := s.Record(ctx, now, items); err != nil {
		t.Fatal(err)
	}
	got, err := s.Evidence(ctx, "g:f:1")
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte("Warning\n\ngoing to hurt\r\nsomeone \u202e"))
	if got.SHA256 != hex.EncodeToString(sum[:]) {
		t.Errorf("sha256 = %s, want the digest of the exact title and text", got.SHA256)
	}
	if got.Title != ev.Title || got.Text != ev.Text || got.Author != "anon" || got.Link != ev.Link || got.FeedName != "Forum" ||
		!got.Published.Equal(pub) || !got.Dated || !got.FirstSeen.Equal(now) || got.ResponseDate != ev.ResponseDate || got.ResponseETag != `"v1"` {
		t.Errorf("evidence = %+v", got)
	}
	if _, err := s.Evidence(ctx, "g:f:2"); !errors.Is(err, ErrNoEvidence) {
		t.Errorf("an item that queued nothing: err = %v, want ErrNoEvidence", err)
	}

	// An edit that adds a finding keeps the new version under its own key.
	later := now.Add(time.Hour)
	edited := items[0]
	edited.Content, edited.Findings = "c1b", []Finding{{Rule: "threat", School: "1"}, {Rule: "complaint", School: "1"}}
	edited.Pending = []Pending{p, {Recipient: "head@x.org", SchoolID: "1", RuleID: "complaint", Delivery: "immediate", Payload: []byte("{}")}}
	edited.Evidence = &Evidence{FeedID: "f", Title: "Warning", Text: "edited text"}
	if out, err := s.Record(ctx, later, []Item{edited}); err != nil || !out[0].Edited {
		t.Fatalf("edit: %+v, %v", out, err)
	}
	m, err := s.EvidenceFor(ctx, []string{"g:f:1", "g:f:1#c1b", "nope"})
	if err != nil {
		t.Fatal(err)
	}
	if len(m) != 2 || m["g:f:1"].Text != ev.Text || m["g:f:1#c1b"].Text != "edited text" || !m["g:f:1#c1b"].FirstSeen.Equal(later) {
		t.Errorf("after the edit: %+v", m)
	}

	// The retention purge removes records first seen before its cut-off.
	if _, err := s.Purge(ctx, now.Add(30*time.Minute)); err != nil {
		t.Fatal(err)
	}
	m, err = s.EvidenceFor(ctx, []string{"g:f:1", "g:f:1#c1b"})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := m["g:f:1"]; ok {
		t.Error("purge left the record first seen before the cut-off")
	}
	if _, ok := m["g:f:1#c1b"]; !ok {
		t.Error("purge removed the record first seen after the cut-off")
	}
}

// TestFirstMails: the alert log names the first mail that carried an item
// to a recipient, for the post itself and for its edited versions; other
// recipients and unknown items have none.
func TestFirstMails(t *testing.T) {
	ctx := context.Background()
	s, _ := open(t)
	now := time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)
	for _, m := range []struct {
		key, to, item string
	}{{"alert-1", "head@x.org", "g:f:1"}, {"alert-2", "dsl@x.org", "g:f:1"}} {
		if _, err := s.Enqueue(ctx, now, Message{Key: m.key, Kind: "alert", Recipient: m.to, Subject: "s", Raw: []byte("x")}, nil, []string{m.item}); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.FirstMails(ctx, "head@x.org", []string{"g:f:1#abc", "g:f:1", "g:f:9"})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got["g:f:1#abc"] != "alert-1" || got["g:f:1"] != "alert-1" {
		t.Errorf("first mails = %v", got)
	}
	if got, _ := s.FirstMails(ctx, "other@x.org", []string{"g:f:1"}); len(got) != 0 {
		t.Errorf("another recipient: %v", got)
	}
}
