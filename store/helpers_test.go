package store

import (
	"context"
	"database/sql"
	"time"
)

// addPending queues findings outside of item recording, with the alert-log
// check RecordItems makes for a new item.
func (s *Store) addPending(ctx context.Context, now time.Time, ps ...Pending) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		for _, p := range ps {
			if err := insertPending(ctx, tx, now, p); err != nil {
				return err
			}
		}
		return nil
	})
}

// due returns up to limit messages due at now, capping nothing.
func (s *Store) due(ctx context.Context, now time.Time, limit int) ([]Message, error) {
	return s.DueCapped(ctx, now, 0, limit)
}
