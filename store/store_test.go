package store

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// open opens a fresh store for a test: SQLite, or with
// SCHOOLWATCH_TEST_DRIVER=postgres a fresh schema of the Postgres database
// the PG* variables name (see postgres_test.go). The string is what reopen
// takes.
func open(t *testing.T) (*Store, string) {
	t.Helper()
	if os.Getenv("SCHOOLWATCH_TEST_DRIVER") == DriverPostgres {
		dsn := pgTestDSN(t)
		return pgOpen(t, dsn), dsn
	}
	return openSQLite(t)
}

// reopen opens the store open returned again.
func reopen(ctx context.Context, at string) (*Store, error) {
	if os.Getenv("SCHOOLWATCH_TEST_DRIVER") == DriverPostgres {
		return OpenPostgres(ctx, at)
	}
	return Open(ctx, at)
}

func openSQLite(t *testing.T) (*Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "sub", "sw.db")
	s, err := Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, path
}

func TestRecordItemsDedupesAndQueues(t *testing.T) {
	ctx := context.Background()
	s, _ := open(t)
	now := time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)
	p := Pending{Recipient: "head@x.org", SchoolID: "1", RuleID: "threat", Severity: 0, Delivery: "immediate", Payload: []byte("{}")}
	items := []Item{
		{Key: "a", FeedID: "f1", Alert: true, Pending: []Pending{p}},
		{Key: "b", FeedID: "f1", Alert: false, Pending: []Pending{p}}, // too old: recorded, not queued
		{Key: "a", FeedID: "f1", Alert: true, Pending: []Pending{p}},  // repeated within the batch
	}
	isNew, err := s.RecordItems(ctx, now, items)
	if err != nil {
		t.Fatal(err)
	}
	if want := []bool{true, true, false}; !slices.Equal(isNew, want) {
		t.Errorf("isNew = %v, want %v", isNew, want)
	}
	ps, err := s.ListPending(ctx, "immediate")
	if err != nil {
		t.Fatal(err)
	}
	if len(ps) != 1 || ps[0].ItemKey != "a" || !ps[0].Created.Equal(now) {
		t.Fatalf("pending = %+v, want one for item a", ps)
	}
	// The same story from another feed is not new and queues nothing.
	isNew, err = s.RecordItems(ctx, now, []Item{{Key: "a", FeedID: "f2", Alert: true, Pending: []Pending{p}}})
	if err != nil || isNew[0] {
		t.Fatalf("second feed: isNew=%v err=%v", isNew, err)
	}
	if ps, _ := s.ListPending(ctx, "immediate"); len(ps) != 1 {
		t.Errorf("pending after duplicate = %d, want 1", len(ps))
	}
}

func TestEnqueueIsAtomicAndLogged(t *testing.T) {
	ctx := context.Background()
	s, path := open(t)
	now := time.Now()
	p := Pending{Recipient: "dsl@x.org", SchoolID: "1", ItemKey: "item1", RuleID: "r", Delivery: "immediate", Payload: []byte("{}")}
	if err := s.addPending(ctx, now, p); err != nil {
		t.Fatal(err)
	}
	ps, _ := s.ListPending(ctx, "immediate")
	m := Message{Key: "alert-1", Kind: "alert", Recipient: "dsl@x.org", Subject: "s", Raw: []byte("raw")}
	added, err := s.Enqueue(ctx, now, m, []int64{ps[0].ID}, []string{"item1"})
	if err != nil || !added {
		t.Fatalf("enqueue: added=%v err=%v", added, err)
	}
	if ps, _ := s.ListPending(ctx, "immediate"); len(ps) != 0 {
		t.Errorf("pending rows left after enqueue: %d", len(ps))
	}
	// Enqueueing the same key again adds nothing.
	if added, err := s.Enqueue(ctx, now, m, nil, nil); err != nil || added {
		t.Errorf("re-enqueue: added=%v err=%v", added, err)
	}
	// The alert log now stops the same item reaching the same person again.
	if err := s.addPending(ctx, now, p); err != nil {
		t.Fatal(err)
	}
	if ps, _ := s.ListPending(ctx, "immediate"); len(ps) != 0 {
		t.Errorf("logged item queued again: %d rows", len(ps))
	}
	// Everything survives a reopen.
	s.Close()
	s2, err := reopen(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	due, err := s2.due(ctx, now.Add(time.Second), 10)
	if err != nil || len(due) != 1 || string(due[0].Raw) != "raw" {
		t.Fatalf("due after reopen = %+v, %v", due, err)
	}
}

func TestOutboxLifecycle(t *testing.T) {
	ctx := context.Background()
	s, _ := open(t)
	now := time.Now()
	for _, k := range []string{"m1", "m2"} {
		if _, err := s.Enqueue(ctx, now, Message{Key: k, Kind: "alert", Recipient: "a@x.org", Raw: []byte(k)}, nil, nil); err != nil {
			t.Fatal(err)
		}
	}
	due, _ := s.due(ctx, now, 10)
	if len(due) != 2 {
		t.Fatalf("due = %d, want 2", len(due))
	}
	if err := s.MarkRetry(ctx, due[0].ID, now.Add(time.Minute), "451 try later"); err != nil {
		t.Fatal(err)
	}
	if err := s.MarkFailed(ctx, due[1].ID, "550 no such user"); err != nil {
		t.Fatal(err)
	}
	if due, _ := s.due(ctx, now, 10); len(due) != 0 {
		t.Errorf("due right after retry/fail = %d, want 0", len(due))
	}
	depth, oldest, err := s.OutboxStats(ctx)
	if err != nil || depth != 1 || oldest.IsZero() {
		t.Errorf("stats = %d %v %v", depth, oldest, err)
	}
	next, _ := s.NextDue(ctx)
	if next.Sub(now.Add(time.Minute)).Abs() > time.Millisecond {
		t.Errorf("next due = %v", next)
	}
	due, _ = s.due(ctx, now.Add(2*time.Minute), 10)
	if len(due) != 1 || due[0].Attempts != 1 || due[0].LastError != "451 try later" {
		t.Fatalf("retry row = %+v", due)
	}
	if err := s.MarkSent(ctx, due[0].ID, now); err != nil {
		t.Fatal(err)
	}
	if depth, _, _ := s.OutboxStats(ctx); depth != 0 {
		t.Errorf("depth after sent = %d", depth)
	}
	failed, _ := s.Messages(ctx, StatusFailed, 10)
	if len(failed) != 1 || failed[0].LastError != "550 no such user" {
		t.Errorf("failed = %+v", failed)
	}
}

func TestFeedStateRoundTripAndPurge(t *testing.T) {
	ctx := context.Background()
	s, _ := open(t)
	now := time.UnixMilli(time.Now().UnixMilli())
	st := FeedState{FeedID: "f", ETag: `"abc"`, LastModified: "Wed, 25 Nov 2026 08:00:00 GMT", LastSuccess: now, Failures: 2, NextPoll: now.Add(time.Hour), ItemsSeen: 7, Cursor: 1725911162329308}
	if err := s.PutFeedState(ctx, st); err != nil {
		t.Fatal(err)
	}
	got, ok, err := s.FeedState(ctx, "f")
	if err != nil || !ok || got.ETag != st.ETag || !got.LastSuccess.Equal(now) || got.Failures != 2 || got.ItemsSeen != 7 || got.Cursor != st.Cursor {
		t.Fatalf("got %+v ok=%v err=%v", got, ok, err)
	}
	if _, ok, _ := s.FeedState(ctx, "other"); ok {
		t.Error("unknown feed reported as stored")
	}
	old := now.Add(-100 * 24 * time.Hour)
	s.RecordItems(ctx, old, []Item{{Key: "old", FeedID: "f"}})
	s.RecordItems(ctx, now, []Item{{Key: "new", FeedID: "f"}})
	n, err := s.Purge(ctx, now.Add(-90*24*time.Hour))
	if err != nil || n != 1 {
		t.Fatalf("purge = %d, %v", n, err)
	}
	if seen, _ := s.Seen(ctx, "old"); seen {
		t.Error("old item survived the purge")
	}
	if seen, _ := s.Seen(ctx, "new"); !seen {
		t.Error("new item purged")
	}
}

// TestEnqueueNoticeIsAtomic: the notice and its log entry are stored
// together, and when the log cannot be written the notice is not queued
// either (so the next evaluation plans it again rather than losing it or
// repeating it).
func TestEnqueueNoticeIsAtomic(t *testing.T) {
	ctx := context.Background()
	s, _ := open(t)
	now := time.Date(2026, 11, 25, 23, 59, 0, 0, time.UTC)
	m := Message{Key: "notice-a", Kind: "notice", Recipient: "it@school.example", Subject: "s", Raw: []byte("raw")}
	put := []FeedNotice{{FeedID: "f", Condition: "failing", Since: now.Add(-time.Hour), LastSent: now}}
	if added, err := s.EnqueueNotice(ctx, now, m, put, nil); err != nil || !added {
		t.Fatalf("EnqueueNotice = %v, %v", added, err)
	}
	log, err := s.FeedNotices(ctx)
	if err != nil || log["f"].Condition != "failing" || !log["f"].LastSent.Equal(now) {
		t.Fatalf("log after notice: %+v, %v", log, err)
	}
	if added, err := s.EnqueueNotice(ctx, now, m, put, nil); err != nil || added {
		t.Errorf("same notice again = %v, %v; want not added", added, err)
	}

	// The log write fails: nothing of the second notice remains.
	if _, err := s.db.ExecContext(ctx, `DROP TABLE feed_notices`); err != nil {
		t.Fatal(err)
	}
	m2 := Message{Key: "notice-b", Kind: "notice", Recipient: "it@school.example", Subject: "s", Raw: []byte("raw")}
	if _, err := s.EnqueueNotice(ctx, now, m2, put, nil); err == nil {
		t.Fatal("EnqueueNotice succeeded without a notice log")
	}
	msgs, err := s.Messages(ctx, "", 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 1 || msgs[0].Key != "notice-a" {
		t.Errorf("outbox holds %d messages (%v); want only notice-a", len(msgs), msgs)
	}
}

// TestDueCappedAfterClockStepBack: a retry deadline further ahead than the
// sender's longest delay was written by a clock since stepped back; it is
// due now, while an ordinary deadline still waits.
func TestDueCappedAfterClockStepBack(t *testing.T) {
	ctx := context.Background()
	s, _ := open(t)
	now := time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)
	for _, k := range []string{"stepped", "waiting"} {
		if _, err := s.Enqueue(ctx, now, Message{Key: k, Kind: "alert", Recipient: "a@x.org", Raw: []byte(k)}, nil, nil); err != nil {
			t.Fatal(err)
		}
	}
	due, _ := s.due(ctx, now, 10)
	if len(due) != 2 {
		t.Fatalf("due = %d, want 2", len(due))
	}
	next := map[string]time.Time{"stepped": now.Add(6 * time.Hour), "waiting": now.Add(2 * time.Minute)}
	for _, m := range due {
		if err := s.MarkRetry(ctx, m.ID, next[m.Key], "refused"); err != nil {
			t.Fatal(err)
		}
	}
	if due, _ := s.due(ctx, now, 10); len(due) != 0 {
		t.Errorf("Due (no cap) = %d messages, want 0", len(due))
	}
	due, err := s.DueCapped(ctx, now, 10*time.Minute, 10)
	if err != nil || len(due) != 1 || due[0].Key != "stepped" || !due[0].NextAttempt.Equal(now) {
		t.Fatalf("DueCapped(max 10m) = %+v, %v; want only the 6h deadline, reported as now", due, err)
	}
	due, _ = s.DueCapped(ctx, now.Add(2*time.Minute), 10*time.Minute, 10)
	if len(due) != 2 {
		t.Errorf("DueCapped 2m later = %d messages, want 2", len(due))
	}
}

// TestFeedNoticesAtClampsTheFuture: a notice log entry "last sent" in the
// future is read, and stored, as sent now, so its reminder comes a day
// later rather than a day after the future date.
func TestFeedNoticesAtClampsTheFuture(t *testing.T) {
	ctx := context.Background()
	s, _ := open(t)
	now := time.UnixMilli(time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC).UnixMilli())
	put := []FeedNotice{
		{FeedID: "ahead", Condition: "failing", Since: now.Add(-time.Hour), LastSent: now.Add(6 * time.Hour)},
		{FeedID: "past", Condition: "quiet", Since: now.Add(-48 * time.Hour), LastSent: now.Add(-3 * time.Hour)},
	}
	if err := s.UpdateFeedNotices(ctx, put, nil); err != nil {
		t.Fatal(err)
	}
	log, err := s.FeedNoticesAt(ctx, now)
	if err != nil {
		t.Fatal(err)
	}
	if !log["ahead"].LastSent.Equal(now) || !log["past"].LastSent.Equal(now.Add(-3*time.Hour)) {
		t.Errorf("FeedNoticesAt: ahead %v, past %v; want %v and %v", log["ahead"].LastSent, log["past"].LastSent, now, now.Add(-3*time.Hour))
	}
	stored, _ := s.FeedNotices(ctx)
	if !stored["ahead"].LastSent.Equal(now) || stored["ahead"].Condition != "failing" || !stored["ahead"].Since.Equal(now.Add(-time.Hour)) {
		t.Errorf("stored after FeedNoticesAt: %+v; want last sent %v, the rest unchanged", stored["ahead"], now)
	}
}
