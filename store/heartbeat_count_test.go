package store

import (
	"context"
	"testing"
	"time"
)

// An item recorded under its GUID and its story's link counts once in the
// heartbeat's "posts checked", not once per identity.
func TestNewItemsByFeedCountsEachItemOnce(t *testing.T) {
	s, _ := open(t)
	ctx := context.Background()
	now := time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC)
	var items []Item
	for i, k := range []string{"a", "b", "c"} {
		items = append(items, Item{Key: "g:news:" + k, AltKeys: []string{"l:example.org:" + k}, FeedID: "news",
			Published: now, Content: "fp-" + k, Alert: i < 2})
	}
	if _, err := s.Record(ctx, now, items); err != nil {
		t.Fatal(err)
	}
	got, err := s.NewItemsByFeed(ctx, now.Add(-time.Hour), now.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if got["news"] != 3 {
		t.Errorf("items checked = %d, want 3 (one per item, not per identity)", got["news"])
	}
}
