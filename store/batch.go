package store

import (
	"context"
	"database/sql"
	"errors"
	"sync"
)

// maxBatch bounds the writes that share one commit.
const maxBatch = 64

// batcher combines concurrent small write transactions into one commit
// ("group commit"). Each write still succeeds or fails alone: it runs in its
// own savepoint inside the shared transaction, and a failed write is rolled
// back to its savepoint without touching the others. With thousands of
// feeds polled a few at a time, this turns a commit (and its WAL frames)
// per feed into one per batch, which is most of the store's cost.
type batcher struct {
	mu      sync.Mutex
	queue   []*batchJob
	running bool // a caller is committing batches
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
		b.mu.Unlock()
		// Not abandoned on ctx: the job may already be running, and the
		// committer finishes it promptly (fn itself honours ctx).
		return <-j.done
	}
	b.running = true
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

func (s *Store) commitBatch(ctx context.Context, batch []*batchJob) {
	errs := make([]error, len(batch))
	err := s.tx(ctx, func(tx *sql.Tx) error {
		ok := 0
		for i, j := range batch {
			if _, err := tx.ExecContext(ctx, `SAVEPOINT job`); err != nil {
				return err
			}
			if errs[i] = j.fn(tx); errs[i] != nil {
				if _, err := tx.ExecContext(ctx, `ROLLBACK TO job`); err != nil {
					return errors.Join(errs[i], err)
				}
			} else {
				ok++
			}
			if _, err := tx.ExecContext(ctx, `RELEASE job`); err != nil {
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

// errNothingToCommit rolls back a batch in which every write failed.
var errNothingToCommit = errors.New("nothing to commit")
