package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// FeedState is what a feed's polls leave behind for the next one.
type FeedState struct {
	FeedID       string
	ETag         string
	LastModified string
	LastPoll     time.Time
	LastSuccess  time.Time
	LastNewItem  time.Time
	LastError    string
	ErrorClass   string
	FailingSince time.Time
	Failures     int // consecutive
	NextPoll     time.Time
	ItemsSeen    int64
	// BodyHash fingerprints the last document processed, so the same
	// document served again (whatever its validators) is not parsed again.
	BodyHash string
	// Cursor is where a stream feed (type jetstream) has recorded up to:
	// the time_us of the last event whose items are in the store, so a
	// reconnect or a restart resumes there. 0 for polled feeds.
	Cursor int64
}

// FeedState returns the stored state of a feed; a feed never polled has a
// zero state and ok == false.
func (s *Store) FeedState(ctx context.Context, feedID string) (st FeedState, ok bool, err error) {
	var lp, ls, ln, fs, np int64
	err = s.db.QueryRowContext(ctx, `SELECT feed_id, etag, last_modified, last_poll, last_success, last_new_item, last_error, error_class, failing_since, failures, next_poll, items_seen, body_hash, cursor
		FROM feed_state WHERE feed_id = ?`, feedID).Scan(&st.FeedID, &st.ETag, &st.LastModified, &lp, &ls, &ln, &st.LastError, &st.ErrorClass, &fs, &st.Failures, &np, &st.ItemsSeen, &st.BodyHash, &st.Cursor)
	if errors.Is(err, sql.ErrNoRows) {
		return FeedState{FeedID: feedID}, false, nil
	}
	if err != nil {
		return st, false, fmt.Errorf("feed state %s: %w", feedID, err)
	}
	st.LastPoll, st.LastSuccess, st.LastNewItem, st.FailingSince, st.NextPoll = fromMS(lp), fromMS(ls), fromMS(ln), fromMS(fs), fromMS(np)
	return st, true, nil
}

// FeedStates returns every stored feed state, by feed id.
func (s *Store) FeedStates(ctx context.Context) ([]FeedState, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT feed_id, etag, last_modified, last_poll, last_success, last_new_item, last_error, error_class, failing_since, failures, next_poll, items_seen, body_hash, cursor
		FROM feed_state ORDER BY feed_id`)
	if err != nil {
		return nil, fmt.Errorf("feed states: %w", err)
	}
	defer rows.Close()
	var out []FeedState
	for rows.Next() {
		var st FeedState
		var lp, ls, ln, fs, np int64
		if err := rows.Scan(&st.FeedID, &st.ETag, &st.LastModified, &lp, &ls, &ln, &st.LastError, &st.ErrorClass, &fs, &st.Failures, &np, &st.ItemsSeen, &st.BodyHash, &st.Cursor); err != nil {
			return nil, fmt.Errorf("feed states: %w", err)
		}
		st.LastPoll, st.LastSuccess, st.LastNewItem, st.FailingSince, st.NextPoll = fromMS(lp), fromMS(ls), fromMS(ln), fromMS(fs), fromMS(np)
		out = append(out, st)
	}
	return out, rows.Err()
}

// PutFeedState stores a feed's state, replacing what was there.
func (s *Store) PutFeedState(ctx context.Context, st FeedState) error {
	return s.PutFeedStates(ctx, st)
}

// PutFeedStates stores several feeds' states in one transaction.
func (s *Store) PutFeedStates(ctx context.Context, states ...FeedState) error {
	if len(states) == 0 {
		return nil
	}
	err := s.batchTx(ctx, func(tx *sql.Tx) error {
		for _, st := range states {
			if err := s.putFeedState(ctx, tx, st); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("put feed state %s: %w", states[0].FeedID, err)
	}
	return nil
}

const qFeedStateUpsert = `INSERT INTO feed_state (feed_id, etag, last_modified, last_poll, last_success, last_new_item, last_error, error_class, failing_since, failures, next_poll, items_seen, body_hash, cursor)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (feed_id) DO UPDATE SET etag = excluded.etag, last_modified = excluded.last_modified, last_poll = excluded.last_poll,
			last_success = excluded.last_success, last_new_item = excluded.last_new_item, last_error = excluded.last_error,
			error_class = excluded.error_class, failing_since = excluded.failing_since, failures = excluded.failures,
			next_poll = excluded.next_poll, items_seen = excluded.items_seen, body_hash = excluded.body_hash, cursor = excluded.cursor`

func (s *Store) putFeedState(ctx context.Context, tx *sql.Tx, st FeedState) error {
	_, err := tx.StmtContext(ctx, s.hot.feedStateUpsert).ExecContext(ctx,
		st.FeedID, st.ETag, st.LastModified, ms(st.LastPoll), ms(st.LastSuccess), ms(st.LastNewItem), st.LastError, st.ErrorClass, ms(st.FailingSince), st.Failures, ms(st.NextPoll), st.ItemsSeen, st.BodyHash, st.Cursor)
	return err
}

// Purge deletes seen items, alert log entries and evidence records older
// than before, and sent or failed outbox messages older than before. It
// returns how many rows went.
func (s *Store) Purge(ctx context.Context, before time.Time) (int64, error) {
	var total int64
	err := s.tx(ctx, func(tx *sql.Tx) error {
		for _, q := range []string{
			`DELETE FROM seen_items WHERE first_seen < ?`,
			`DELETE FROM alert_log WHERE created < ?`,
			`DELETE FROM outbox WHERE status != 'pending' AND created < ?`,
			// A finding held for a digest (a mention, a digest rule) past
			// the retention period goes too: its excerpt is post text. One
			// waiting for its immediate mail never does.
			`DELETE FROM pending WHERE delivery != 'immediate' AND created < ?`,
			// An item's record goes with the item (they share a first-seen
			// time); an edited version's record ("key#content") with its own.
			`DELETE FROM evidence WHERE first_seen < ? OR (instr(item_key, '#') = 0 AND NOT EXISTS (SELECT 1 FROM seen_items WHERE key = evidence.item_key))`,
			// The incident log (issue 21) is kept as long as the alert log.
			`DELETE FROM incidents WHERE created < ?`,
			`DELETE FROM suppressed WHERE created < ?`,
			`DELETE FROM mutes WHERE until < ?`,
		} {
			res, err := tx.ExecContext(ctx, q, ms(before))
			if err != nil {
				return err
			}
			n, _ := res.RowsAffected()
			total += n
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("purge: %w", err)
	}
	return total, nil
}
