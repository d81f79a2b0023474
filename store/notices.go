package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// FeedNotice records the last feed-health notice sent about one feed: the
// condition (failing or quiet) the operator was told about, since when it
// has held, and when the operator was last told.
type FeedNotice struct {
	FeedID    string
	Condition string
	Since     time.Time
	LastSent  time.Time
}

// FeedNoticesAt returns the notice log, by feed id, as of now. An entry
// last sent after now was written by a clock that has since been stepped
// back; it is treated as sent now, and stored so, or its daily reminder
// would wait for as long as the step on top of the day.
func (s *Store) FeedNoticesAt(ctx context.Context, now time.Time) (map[string]FeedNotice, error) {
	log, err := s.FeedNotices(ctx)
	if err != nil {
		return nil, err
	}
	var fix []FeedNotice
	for id, n := range log {
		if n.LastSent.After(now) {
			n.LastSent = now
			log[id] = n
			fix = append(fix, n)
		}
	}
	if len(fix) > 0 {
		if err := s.UpdateFeedNotices(ctx, fix, nil); err != nil {
			return nil, err
		}
	}
	return log, nil
}

// FeedNotices returns the notice log, by feed id, as stored.
func (s *Store) FeedNotices(ctx context.Context) (map[string]FeedNotice, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT feed_id, condition, since, last_sent FROM feed_notices`)
	if err != nil {
		return nil, fmt.Errorf("feed notices: %w", err)
	}
	defer rows.Close()
	out := map[string]FeedNotice{}
	for rows.Next() {
		var n FeedNotice
		var since, sent int64
		if err := rows.Scan(&n.FeedID, &n.Condition, &since, &sent); err != nil {
			return nil, fmt.Errorf("feed notices: %w", err)
		}
		n.Since, n.LastSent = fromMS(since), fromMS(sent)
		out[n.FeedID] = n
	}
	return out, rows.Err()
}

// UpdateFeedNotices writes put and deletes the entries of cleared feeds in
// one transaction.
func (s *Store) UpdateFeedNotices(ctx context.Context, put []FeedNotice, cleared []string) error {
	if err := s.tx(ctx, func(tx *sql.Tx) error { return updateFeedNotices(ctx, tx, put, cleared) }); err != nil {
		return fmt.Errorf("update feed notices: %w", err)
	}
	return nil
}

// EnqueueNotice stores an operator notice for delivery and updates the
// notice log that planned it, in one transaction: after a crash either the
// mail is queued and the log says so, or neither, and the next evaluation
// plans the same notice again. It reports whether m was added (false if
// its key was already in the outbox).
func (s *Store) EnqueueNotice(ctx context.Context, now time.Time, m Message, put []FeedNotice, cleared []string) (bool, error) {
	var added bool
	err := s.tx(ctx, func(tx *sql.Tx) (err error) {
		if added, err = enqueue(ctx, tx, now, m, nil, nil); err != nil {
			return err
		}
		return updateFeedNotices(ctx, tx, put, cleared)
	})
	if err != nil {
		return false, fmt.Errorf("enqueue notice %s: %w", m.Key, err)
	}
	return added, nil
}

func updateFeedNotices(ctx context.Context, tx *sql.Tx, put []FeedNotice, cleared []string) error {
	for _, n := range put {
		if _, err := tx.ExecContext(ctx, `INSERT INTO feed_notices (feed_id, condition, since, last_sent) VALUES (?, ?, ?, ?)
			ON CONFLICT(feed_id) DO UPDATE SET condition = excluded.condition, since = excluded.since, last_sent = excluded.last_sent`,
			n.FeedID, n.Condition, ms(n.Since), ms(n.LastSent)); err != nil {
			return err
		}
	}
	for _, id := range cleared {
		if _, err := tx.ExecContext(ctx, `DELETE FROM feed_notices WHERE feed_id = ?`, id); err != nil {
			return err
		}
	}
	return nil
}

// NewItemsByFeed counts, per feed, the items first seen in [from, to): the
// items a heartbeat reports as checked. An item seen in several feeds counts
// for the first one only, and an item counts once however many identities
// it was recorded under: only its own row carries a content fingerprint,
// the rows of its other identities (a story's link) do not.
func (s *Store) NewItemsByFeed(ctx context.Context, from, to time.Time) (map[string]int64, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT feed_id, COUNT(*) FROM seen_items WHERE first_seen >= ? AND first_seen < ? AND content != '' GROUP BY feed_id`, ms(from), ms(to))
	if err != nil {
		return nil, fmt.Errorf("new items by feed: %w", err)
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var id string
		var n int64
		if err := rows.Scan(&id, &n); err != nil {
			return nil, fmt.Errorf("new items by feed: %w", err)
		}
		out[id] = n
	}
	return out, rows.Err()
}

// SeenBefore reports whether any item was first seen before t: whether
// schoolwatch was already watching then.
func (s *Store) SeenBefore(ctx context.Context, t time.Time) (bool, error) {
	var n int
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM (SELECT 1 FROM seen_items WHERE first_seen < ? LIMIT 1) AS earlier`, ms(t)).Scan(&n); err != nil {
		return false, fmt.Errorf("seen before: %w", err)
	}
	return n > 0, nil
}

// AlertedItems counts the items alerted to recipient in [from, to).
func (s *Store) AlertedItems(ctx context.Context, recipient string, from, to time.Time) (int, error) {
	var n int
	err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM alert_log WHERE recipient = ? AND created >= ? AND created < ?`, recipient, ms(from), ms(to)).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("alerted items: %w", err)
	}
	return n, nil
}
