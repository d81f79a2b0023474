package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"
)

// TestBatchIsolatesFailures commits three writes together; the failing one
// leaves nothing behind and the others are kept.
func TestBatchIsolatesFailures(t *testing.T) {
	ctx := context.Background()
	s, _ := open(t)
	insert := func(key string, fail bool) *batchJob {
		return &batchJob{done: make(chan error, 1), fn: func(tx *sql.Tx) error {
			if _, err := tx.ExecContext(ctx, `INSERT INTO seen_items (key, feed_id, first_seen) VALUES (?, 'f', 1)`, key); err != nil {
				return err
			}
			if fail {
				return errors.New("boom")
			}
			return nil
		}}
	}
	jobs := []*batchJob{insert("a", false), insert("b", true), insert("c", false)}
	s.commitBatch(ctx, jobs)
	for i, want := range []bool{false, true, false} {
		if err := <-jobs[i].done; (err != nil) != want {
			t.Errorf("job %d: err %v", i, err)
		}
	}
	for key, want := range map[string]bool{"a": true, "b": false, "c": true} {
		if got, _ := s.Seen(ctx, key); got != want {
			t.Errorf("seen %s = %v, want %v", key, got, want)
		}
	}
}

// TestConcurrentRecordItems records from many goroutines at once (so that
// writes share commits): every unique item is new once, and an item all of
// them carry is new exactly once.
func TestConcurrentRecordItems(t *testing.T) {
	ctx := context.Background()
	s, _ := open(t)
	const n = 32
	var wg sync.WaitGroup
	results := make([][]bool, n)
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			items := []Item{
				{Key: fmt.Sprintf("g:f%d:1", i), AltKeys: []string{"l:x.org:shared"}, FeedID: fmt.Sprintf("f%d", i)},
				{Key: fmt.Sprintf("g:f%d:2", i), FeedID: fmt.Sprintf("f%d", i)},
			}
			results[i], errs[i] = s.RecordItems(ctx, time.Now(), items)
		}()
	}
	wg.Wait()
	shared := 0
	for i := range n {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		if !results[i][1] {
			t.Errorf("feed %d: unique item not new", i)
		}
		if results[i][0] {
			shared++
		}
	}
	if shared != 1 {
		t.Errorf("the item every feed carries was new %d times, want once", shared)
	}
}

// TestAltKeysMakeAnItemSeen: an item is new only if none of its keys was seen.
func TestAltKeysMakeAnItemSeen(t *testing.T) {
	ctx := context.Background()
	s, _ := open(t)
	now := time.Now()
	if isNew, err := s.RecordItems(ctx, now, []Item{{Key: "g:a:1", AltKeys: []string{"l:x.org:story"}, FeedID: "a"}}); err != nil || !isNew[0] {
		t.Fatalf("first: %v %v", isNew, err)
	}
	isNew, err := s.RecordItems(ctx, now, []Item{
		{Key: "g:b:9", AltKeys: []string{"l:x.org:story"}, FeedID: "b", Alert: true, Pending: []Pending{{Recipient: "r@x.org", RuleID: "r", Delivery: "immediate", Payload: []byte("{}")}}},
		{Key: "g:b:10", AltKeys: []string{"l:x.org:other"}, FeedID: "b"},
	})
	if err != nil || isNew[0] || !isNew[1] {
		t.Fatalf("second: %v %v; want the shared story not new", isNew, err)
	}
	if ps, _ := s.ListPending(ctx, "immediate"); len(ps) != 0 {
		t.Errorf("a duplicate story queued %d findings", len(ps))
	}
	// Its new GUID key was recorded all the same.
	if seen, _ := s.Seen(ctx, "g:b:9"); !seen {
		t.Error("the duplicate's own key was not recorded")
	}
}

// TestLingerGathersWrites: writes that arrive while the first one lingers
// share its commit, and a full batch does not wait out the linger.
func TestLingerGathersWrites(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name       string
		writers    int
		linger     time.Duration
		maxCommits int64
	}{
		// Eight writers released together, a generous linger: one commit
		// (two if the scheduler is slow to start some of them).
		{"gathers", 8, 500 * time.Millisecond, 2},
		// maxBatch writers and a linger far longer than the test's
		// deadline: the full queue must wake the committer.
		{"full batch wakes", maxBatch, time.Hour, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, _ := open(t)
			s.batch.linger = tc.linger
			start := make(chan struct{})
			done := make(chan error, tc.writers)
			for i := range tc.writers {
				go func() {
					<-start
					_, err := s.RecordItems(ctx, time.Now(), []Item{{Key: fmt.Sprintf("g:%d", i), FeedID: "f"}})
					done <- err
				}()
			}
			close(start)
			deadline := time.After(time.Minute)
			for range tc.writers {
				select {
				case err := <-done:
					if err != nil {
						t.Fatal(err)
					}
				case <-deadline:
					t.Fatal("writes still waiting after a minute: the committer was not woken")
				}
			}
			st := s.BatchStats()
			if st.Writes != int64(tc.writers) || st.Commits > tc.maxCommits {
				t.Errorf("%d writes in %d commits, want %d writes in at most %d", st.Writes, st.Commits, tc.writers, tc.maxCommits)
			}
			for i := range tc.writers {
				if seen, _ := s.Seen(ctx, fmt.Sprintf("g:%d", i)); !seen {
					t.Errorf("write %d lost", i)
				}
			}
		})
	}
}
