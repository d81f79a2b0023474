package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"time"
)

// pgLeaderLock is the advisory lock key held by the replica that runs the
// jobs that must run once per cluster ("schoolwatch-leader").
const pgLeaderLock = 0x5357_6c65_6164

// leader holds the leader lock's session: a Postgres advisory lock lasts
// as long as the connection that took it, so a replica that dies (or loses
// the database) drops it, and another takes it at its next try.
type leader struct {
	mu   sync.Mutex
	conn *sql.Conn
}

// Leader reports whether this process should run the jobs that must run
// once per store (digests, heartbeats, feed-health notices, purges). On
// SQLite it always does: the file lock makes it the only one. On Postgres
// it does while it holds the leader advisory lock, which it tries to take
// when it does not: the first replica to ask gets it, and keeps it until
// it dies or its session to the database breaks.
func (s *Store) Leader(ctx context.Context) (bool, error) {
	if !s.postgres {
		return true, nil
	}
	l := &s.leader
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.conn != nil {
		var one int
		if err := l.conn.QueryRowContext(ctx, `SELECT 1`).Scan(&one); err == nil {
			return true, nil
		}
		// The session is gone, and the lock with it.
		l.conn.Close()
		l.conn = nil
	}
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return false, fmt.Errorf("leader lock: %w", err)
	}
	var got bool
	if err := conn.QueryRowContext(ctx, `SELECT pg_try_advisory_lock(?)`, int64(pgLeaderLock)).Scan(&got); err != nil {
		conn.Close()
		return false, fmt.Errorf("leader lock: %w", err)
	}
	if !got {
		conn.Close()
		return false, nil
	}
	l.conn = conn
	// Say who leads, for status (the lock itself names a backend pid).
	if _, err := conn.ExecContext(ctx, `INSERT INTO cluster_leader (id, replica, since) VALUES (1, ?, ?)
		ON CONFLICT (id) DO UPDATE SET replica = excluded.replica, since = excluded.since`, s.replica, ms(time.Now())); err != nil {
		return true, fmt.Errorf("leader record: %w", err)
	}
	return true, nil
}

// LeaderReplica returns, on Postgres, the replica that last took the
// leader lock and when ("" on SQLite, or if none ever did).
func (s *Store) LeaderReplica(ctx context.Context) (replica string, since time.Time, err error) {
	if !s.postgres {
		return "", time.Time{}, nil
	}
	var at int64
	err = s.db.QueryRowContext(ctx, `SELECT replica, since FROM cluster_leader WHERE id = 1`).Scan(&replica, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return "", time.Time{}, nil
	}
	if err != nil {
		return "", time.Time{}, fmt.Errorf("leader: %w", err)
	}
	return replica, fromMS(at), nil
}

// releaseLeader gives the leader lock up (at Close).
func (s *Store) releaseLeader() {
	l := &s.leader
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.conn != nil {
		l.conn.ExecContext(context.Background(), `SELECT pg_advisory_unlock(?)`, int64(pgLeaderLock))
		l.conn.Close()
		l.conn = nil
	}
}

// ClaimFeed claims feed id for one poll by this replica, on Postgres: it
// succeeds unless another replica holds a live claim on it, or the feed
// was claimed for a poll less than gap ago (by any replica: replicas
// share the schedule, and one poll per scheduled time is enough). A claim
// lasts the lease (DefaultLease); a replica that dies while polling
// leaves the feed to the others when it runs out. On SQLite every claim
// succeeds. Call the release when the poll is recorded.
func (s *Store) ClaimFeed(ctx context.Context, id string, now time.Time, gap time.Duration) (release func(), ok bool, err error) {
	if !s.postgres {
		return func() {}, true, nil
	}
	res, err := s.db.ExecContext(ctx, `INSERT INTO feed_claims (feed_id, claimed_by, claimed_until, last_replica, last_poll) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (feed_id) DO UPDATE SET claimed_by = excluded.claimed_by, claimed_until = excluded.claimed_until,
			last_replica = excluded.last_replica, last_poll = excluded.last_poll
		WHERE feed_claims.claimed_until <= ? AND feed_claims.last_poll <= ?`,
		id, s.replica, ms(now.Add(s.lease)), s.replica, ms(now), ms(now), ms(now.Add(-gap)))
	if err != nil {
		return nil, false, fmt.Errorf("claim feed %s: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return nil, false, nil
	}
	return func() {
		s.db.ExecContext(context.WithoutCancel(ctx), `UPDATE feed_claims SET claimed_by = '', claimed_until = 0 WHERE feed_id = ? AND claimed_by = ?`, id, s.replica)
	}, true, nil
}

// FeedClaim is which replica last claimed a feed for a poll, and when.
type FeedClaim struct {
	FeedID, Replica string
	LastPoll        time.Time
}

// FeedClaims returns, on Postgres, which replica polled each feed last
// (nil on SQLite).
func (s *Store) FeedClaims(ctx context.Context) ([]FeedClaim, error) {
	if !s.postgres {
		return nil, nil
	}
	rows, err := s.db.QueryContext(ctx, `SELECT feed_id, last_replica, last_poll FROM feed_claims ORDER BY feed_id`)
	if err != nil {
		return nil, fmt.Errorf("feed claims: %w", err)
	}
	defer rows.Close()
	var out []FeedClaim
	for rows.Next() {
		var c FeedClaim
		var lp int64
		if err := rows.Scan(&c.FeedID, &c.Replica, &lp); err != nil {
			return nil, fmt.Errorf("feed claims: %w", err)
		}
		c.LastPoll = fromMS(lp)
		out = append(out, c)
	}
	return out, rows.Err()
}
