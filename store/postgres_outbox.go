package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"slices"
	"time"

	"crypto/rand"
	"encoding/hex"
)

// DefaultLease is how long a Postgres replica's claim on an outbox row or
// a feed lasts: a replica that dies holding one leaves it to the others
// after this long. A claim is released as soon as its work is recorded.
const DefaultLease = time.Minute

// pgExtraDDL is the Postgres-only schema of replication: who holds each
// outbox row and until when, and the feed claims. It is idempotent and runs
// under the migration lock at every open, outside the versioned
// migrations that both databases share.
var pgExtraDDL = []string{
	`ALTER TABLE outbox ADD COLUMN IF NOT EXISTS claimed_by TEXT NOT NULL DEFAULT ''`,
	`ALTER TABLE outbox ADD COLUMN IF NOT EXISTS claimed_until BIGINT NOT NULL DEFAULT 0`,
	`CREATE TABLE IF NOT EXISTS feed_claims (
		feed_id       TEXT PRIMARY KEY,
		claimed_by    TEXT NOT NULL DEFAULT '',
		claimed_until BIGINT NOT NULL DEFAULT 0,
		last_replica  TEXT NOT NULL DEFAULT '',
		last_poll     BIGINT NOT NULL DEFAULT 0
	)`,
	`CREATE TABLE IF NOT EXISTS cluster_leader (
		id      INTEGER PRIMARY KEY CHECK (id = 1),
		replica TEXT NOT NULL,
		since   BIGINT NOT NULL
	)`,
}

// newReplicaID names this process among the replicas: host, pid and a
// random suffix (a restarted replica is a new one).
func newReplicaID() string {
	host, _ := os.Hostname()
	var b [4]byte
	rand.Read(b[:])
	return fmt.Sprintf("%s-%d-%s", host, os.Getpid(), hex.EncodeToString(b[:]))
}

// Replica is this store's replica id on Postgres ("" on SQLite).
func (s *Store) Replica() string { return s.replica }

// pgClaimDue claims up to limit due outbox rows for this replica, until
// now+lease, and returns them. Rows another replica holds under a live
// claim are skipped, and so are rows locked by a claim in progress (SKIP
// LOCKED), so two replicas never get the same row; a row whose claim has
// expired (its holder died) is due again.
func (s *Store) pgClaimDue(ctx context.Context, now time.Time, latest int64, limit int) ([]Message, error) {
	rows, err := s.db.QueryContext(ctx, `UPDATE outbox SET claimed_by = ?, claimed_until = ?
		WHERE id IN (SELECT id FROM outbox WHERE status = 'pending' AND (next_attempt <= ? OR next_attempt > ?)
			AND (claimed_until <= ? OR claimed_by = ?)
			ORDER BY next_attempt, id LIMIT ? FOR UPDATE SKIP LOCKED)
		RETURNING id, key, kind, recipient, subject, message, status, attempts, next_attempt, last_error, created, sent_at`,
		s.replica, ms(now.Add(s.lease)), ms(now), latest, ms(now), s.replica, limit)
	if err != nil {
		return nil, fmt.Errorf("outbox due: %w", err)
	}
	defer rows.Close()
	out, err := scanMessages(rows)
	if err != nil {
		return nil, fmt.Errorf("outbox due: %w", err)
	}
	slices.SortFunc(out, func(a, b Message) int {
		if c := a.NextAttempt.Compare(b.NextAttempt); c != 0 {
			return c
		}
		return int(min(max(a.ID-b.ID, -1), 1))
	})
	return out, nil
}

// pgNextDue is NextDue for replicas: a row another replica holds is due
// for this one only when that claim runs out.
func (s *Store) pgNextDue(ctx context.Context) (time.Time, error) {
	var next *int64
	err := s.db.QueryRowContext(ctx, `SELECT MIN(CASE WHEN claimed_by != ? AND claimed_until > next_attempt THEN claimed_until ELSE next_attempt END)
		FROM outbox WHERE status = 'pending'`, s.replica).Scan(&next)
	if err != nil || next == nil {
		return time.Time{}, err
	}
	return fromMS(*next), nil
}

// pgRelease is the claim-releasing tail of MarkSent, MarkRetry and
// MarkFailed on Postgres: the outcome and the release are one statement.
const pgRelease = `, claimed_by = '', claimed_until = 0`

// errPendingGone: a pending finding to be enqueued was consumed by
// another replica first.
var errPendingGone = errors.New("pending finding already consumed")

// claimPending deletes the pending findings a mail consumes, and fails
// with errPendingGone if any is already gone. Replicas group the same
// findings concurrently, perhaps differently (one saw a finding the other
// had not yet): the first to commit mails them; the other's deletes wait
// for that commit on the row locks, find nothing, and roll its mail back,
// so no finding is mailed twice under two keys.
func claimPending(ctx context.Context, tx *sql.Tx, ids []int64) error {
	for _, id := range ids {
		res, err := tx.ExecContext(ctx, `DELETE FROM pending WHERE id = ?`, id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return errPendingGone
		}
	}
	return nil
}
