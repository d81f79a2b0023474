package store

import (
	"bytes"
	"context"
	"testing"
	"time"
)

// TestMutedPostQueuesNothing: once a post is muted for a school, a finding
// about it for any recipient at that school is not queued until the mute
// ends; another school's finding about it still is.
func TestMutedPostQueuesNothing(t *testing.T) {
	s, _ := open(t)
	ctx := context.Background()
	now := time.Now()
	if err := s.RecordIncidents(ctx, now, []Incident{{SchoolID: "1", ItemKey: "k:1", Recipient: "head@example.org"}}); err != nil {
		t.Fatal(err)
	}
	if err := s.ActOnIncident(ctx, now, "1", "k:1", "head@example.org", StatusMuted, "", now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	p := func(school, rcpt string) Pending {
		return Pending{Recipient: rcpt, SchoolID: school, ItemKey: "k:1", RuleID: "threat", Delivery: "immediate", Payload: []byte("{}")}
	}
	if err := s.addPending(ctx, now, p("1", "dsl@example.org"), p("2", "head2@example.org")); err != nil {
		t.Fatal(err)
	}
	ps, err := s.ListPending(ctx, "immediate")
	if err != nil {
		t.Fatal(err)
	}
	if len(ps) != 1 || ps[0].SchoolID != "2" {
		t.Fatalf("pending while muted = %+v, want school 2's alone", ps)
	}
	if err := s.addPending(ctx, now.Add(2*time.Hour), p("1", "dsl@example.org")); err != nil {
		t.Fatal(err)
	}
	if ps, _ := s.ListPending(ctx, "immediate"); len(ps) != 2 {
		t.Errorf("pending after the mute ended = %d, want 2", len(ps))
	}
	in, err := s.Incidents(ctx, time.Time{}, 0)
	if err != nil || len(in) != 1 || in[0].Status != StatusMuted || in[0].ActedBy != "head@example.org" {
		t.Errorf("incidents = %+v, %v", in, err)
	}
}

// TestLinkKeyKept: the link key is 32 random bytes, generated once.
func TestLinkKeyKept(t *testing.T) {
	s, path := open(t)
	ctx := context.Background()
	k1, err := s.LinkKey(ctx)
	if err != nil || len(k1) != 32 {
		t.Fatalf("LinkKey = %x, %v", k1, err)
	}
	s.Close()
	s2, err := reopen(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	k2, err := s2.LinkKey(ctx)
	if err != nil || !bytes.Equal(k1, k2) {
		t.Errorf("LinkKey after a reopen = %x, want %x", k2, k1)
	}
}

// TestMuteCoversTheSameLink: a post recorded under another key (another
// feed carried it) but at the muted post's link is muted too.
func TestMuteCoversTheSameLink(t *testing.T) {
	s, _ := open(t)
	ctx := context.Background()
	now := time.Now()
	s.RecordIncidents(ctx, now, []Incident{{SchoolID: "1", ItemKey: "k:1", Recipient: "head@example.org", Link: "https://x.example/thread"}})
	if err := s.ActOnIncident(ctx, now, "1", "k:1", "head@example.org", StatusMuted, "", now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	item := func(key, link string) Item {
		return Item{Key: key, FeedID: "other", Alert: true, Evidence: &Evidence{Link: link, Title: "t"},
			Pending: []Pending{{Recipient: "dsl@example.org", SchoolID: "1", RuleID: "threat", Delivery: "immediate", Payload: []byte("{}")}}}
	}
	if _, err := s.RecordItems(ctx, now, []Item{item("k:9", "https://x.example/thread"), item("k:10", "https://x.example/other")}); err != nil {
		t.Fatal(err)
	}
	ps, err := s.ListPending(ctx, "immediate")
	if err != nil || len(ps) != 1 || ps[0].ItemKey != "k:10" {
		t.Errorf("pending = %+v, %v; want k:10's alone", ps, err)
	}
	sup, err := s.Suppressions(ctx, "dsl@example.org")
	if err != nil || len(sup) != 1 || sup[0].ItemKey != "k:9" || sup[0].MutedBy != "head@example.org" {
		t.Errorf("suppressions = %+v, %v", sup, err)
	}
}
