package store

import (
	"context"
	"database/sql"
	"errors"
	"sync"
	"sync/atomic"
	"time"
)

// maxBatch bounds the writes that share one commit.
const maxBatch = 64

// batchLinger is how long a committer that finds no other write queued
// waits for some to arrive before committing alone. Polls of different
// feeds finish a few hundred microseconds apart, each a moment after the
// last commit ended, so without it nearly every write commits by itself,
// and the commit (beginning, WAL frames, page-cache housekeeping) costs
// twice the write. A poll is network-bound; a millisecond is nothing to
// it.
const batchLinger = time.Millisecond

// batcher combines concurrent small write transactions into one commit
// ("group commit"). Each write still succeeds or fails alone: it runs in its
// own savepoint inside the shared transaction, and a failed write is rolled
// back to its savepoint without touching the others. With thousands of
// feeds polled a few at a time, this turns a commit (and its WAL frames)
// per feed into one per batch, which is most of the store's cost.
type batcher struct {
	mu      sync.Mutex
	queue   []*batchJob
	running bool          // a caller is committing batches
	full    chan struct{} // wakes a lingering committer when the queue fills (buffer 1)
	linger  time.Duration // batchLinger; tests may change it

	commits, writes, busy atomic.Int64 // BatchStats
}

type batchJob struct {
	fn   func(*sql.Tx) error
	done chan error
}

// batchTx runs fn in a transaction that it may share with other callers'
// writes. fn's changes commit together or not at all, as with tx. fn must
// use only tx (no other statements on the store) and its own ctx.
//
// The first caller to find no batch in progress becomes the committer: it
// commits its own write together with whatever else is queued, then keeps
// committing queued writes until none are left. The others wait for their
// result.
func (s *Store) batchTx(ctx context.Context, fn func(*sql.Tx) error) error {
	j := &batchJob{fn: fn, done: make(chan error, 1)}
	b := &s.batch
	b.mu.Lock()
	b.queue = append(b.queue, j)
	if b.running {
		if len(b.queue) == maxBatch {
			select {
			case b.full <- struct{}{}:
			default:
			}
		}
		b.mu.Unlock()
		// Not abandoned on ctx: the job may already be running, and the
		// committer finishes it promptly (fn itself honours ctx).
		return <-j.done
	}
	b.running = true
	if len(b.queue) == 1 && b.linger > 0 {
		// Alone: give the writes just behind this one a moment to join.
		// Later batches need no wait: they gathered during the commit
		// before them.
		select {
		case <-b.full: // a stale wake-up from an earlier batch
		default:
		}
		b.mu.Unlock()
		t := time.NewTimer(b.linger)
		select {
		case <-t.C:
		case <-b.full:
			t.Stop()
		}
		b.mu.Lock()
	}
	for {
		n := min(len(b.queue), maxBatch)
		if n == 0 {
			b.running = false
			b.mu.Unlock()
			break
		}
		batch := append([]*batchJob(nil), b.queue[:n]...)
		b.queue = append(b.queue[:0], b.queue[n:]...)
		b.mu.Unlock()
		// The batch belongs to every caller in it: one caller's
		// cancellation must not fail the others' writes.
		s.commitBatch(context.WithoutCancel(ctx), batch)
		b.mu.Lock()
	}
	return <-j.done
}

// BatchStats counts the store's group commits.
type BatchStats struct {
	Commits int64         // batches committed (or rolled back)
	Writes  int64         // writes in them
	Busy    time.Duration // time spent committing
}

// BatchStats returns the group-commit counters since the store opened.
func (s *Store) BatchStats() BatchStats {
	return BatchStats{Commits: s.batch.commits.Load(), Writes: s.batch.writes.Load(), Busy: time.Duration(s.batch.busy.Load())}
}

func (s *Store) commitBatch(ctx context.Context, batch []*batchJob) {
	start := time.Now()
	defer func() {
		s.batch.commits.Add(1)
		s.batch.writes.Add(int64(len(batch)))
		s.batch.busy.Add(int64(time.Since(start)))
	}()
	errs := make([]error, len(batch))
	err := s.tx(ctx, func(tx *sql.Tx) error {
		ok := 0
		savepoint, rollbackTo, release := tx.StmtContext(ctx, s.hot.savepoint), tx.StmtContext(ctx, s.hot.rollbackTo), tx.StmtContext(ctx, s.hot.release)
		for i, j := range batch {
			if _, err := savepoint.ExecContext(ctx); err != nil {
				return err
			}
			if errs[i] = j.fn(tx); errs[i] != nil {
				if _, err := rollbackTo.ExecContext(ctx); err != nil {
					return errors.Join(errs[i], err)
				}
			} else {
				ok++
			}
			if _, err := release.ExecContext(ctx); err != nil {
				return err
			}
		}
		if ok == 0 {
			return errNothingToCommit
		}
		return nil
	})
	for i, j := range batch {
		switch {
		case errs[i] != nil:
			j.done <- errs[i]
		case err != nil && !errors.Is(err, errNothingToCommit):
			j.done <- err
		default:
			j.done <- nil
		}
	}
}

// Each write of a batch runs in its own savepoint.
const (
	qSavepoint  = `SAVEPOINT job`
	qRelease    = `RELEASE job`
	qRollbackTo = `ROLLBACK TO job`
)

// errNothingToCommit rolls back a batch in which every write failed.
var errNothingToCommit = errors.New("nothing to commit")
