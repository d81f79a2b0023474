package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// Item is one feed item to record as seen, with the findings it produced
// already routed to recipients.
type Item struct {
	Key string // stable identity
	// AltKeys are other identities of the same story (its canonical link
	// when Key is a GUID). The item is new only if none of Key and AltKeys
	// was seen; all of them are recorded.
	AltKeys   []string
	FeedID    string
	Published time.Time
	// Alert is false for items that must be recorded but never alert
	// (older than max_item_age).
	Alert   bool
	Pending []Pending
}

// RecordItems marks items seen and, for each one not seen before that may
// alert, queues its pending findings, all in one transaction. isNew[i]
// reports whether items[i] was seen for the first time: none of its keys
// had been recorded. An item already seen (from this feed or another, or
// earlier in items) queues nothing, so the same story alerts once.
func (s *Store) RecordItems(ctx context.Context, now time.Time, items []Item) (isNew []bool, err error) {
	if len(items) == 0 {
		return nil, nil
	}
	isNew = make([]bool, len(items))
	err = s.batchTx(ctx, func(tx *sql.Tx) error {
		clear(isNew)
		seen := tx.StmtContext(ctx, s.hot.seenInsert)
		for i, it := range items {
			fresh := true
			for k := -1; k < len(it.AltKeys); k++ {
				key := it.Key
				if k >= 0 {
					key = it.AltKeys[k]
				}
				res, err := seen.ExecContext(ctx, key, it.FeedID, ms(now), ms(it.Published))
				if err != nil {
					return err
				}
				if n, _ := res.RowsAffected(); n == 0 {
					fresh = false
				}
			}
			if !fresh {
				continue
			}
			isNew[i] = true
			if !it.Alert {
				continue
			}
			for _, p := range it.Pending {
				p.ItemKey = it.Key
				if err := insertPending(ctx, tx, now, p); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("record items: %w", err)
	}
	return isNew, nil
}

const qSeenInsert = `INSERT OR IGNORE INTO seen_items (key, feed_id, first_seen, published) VALUES (?, ?, ?, ?)`

// Seen reports whether an item key has been recorded.
func (s *Store) Seen(ctx context.Context, key string) (bool, error) {
	var n int
	err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM seen_items WHERE key = ?`, key).Scan(&n)
	return n > 0, err
}
