package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// Pending is a finding routed to one recipient, waiting to be grouped into
// an immediate mail or a digest. Payload is the alerts package's own
// encoding of what the mail needs.
type Pending struct {
	ID        int64
	Recipient string
	SchoolID  string
	ItemKey   string
	RuleID    string
	Severity  int // 0 is most severe
	Delivery  string
	Created   time.Time
	Payload   []byte
	// link is the post's address (from its evidence), so a post muted
	// under another item key but at the same link is muted too.
	link string
}

func insertPending(ctx context.Context, tx *sql.Tx, now time.Time, p Pending) error {
	// The alert log remembers every (recipient, item) already mailed, so an
	// item that reappears after its pending rows were sent is not queued again.
	var logged int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM alert_log WHERE recipient = ? AND item_key = ?`, p.Recipient, p.ItemKey).Scan(&logged); err != nil {
		return err
	}
	if logged > 0 {
		return nil
	}
	// A post muted for its school (issue 21) alerts nobody there.
	if mutedKey, err := mutedTx(ctx, tx, now, p.SchoolID, p.ItemKey, p.link); err != nil || mutedKey != "" {
		if err == nil && mutedKey != "" {
			// The digest reports what a mute held back.
			_, err = tx.ExecContext(ctx, `INSERT OR IGNORE INTO suppressed (school_id, item_key, muted_key, recipient, created) VALUES (?, ?, ?, ?, ?)`,
				p.SchoolID, p.ItemKey, mutedKey, p.Recipient, ms(now))
		}
		return err
	}
	created := now
	if !p.Created.IsZero() {
		created = p.Created
	}
	_, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO pending (recipient, school_id, item_key, rule_id, severity, delivery, created, payload)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, p.Recipient, p.SchoolID, p.ItemKey, p.RuleID, p.Severity, p.Delivery, ms(created), p.Payload)
	return err
}

// ListPending returns every pending finding with the given delivery, oldest first.
func (s *Store) ListPending(ctx context.Context, delivery string) ([]Pending, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, recipient, school_id, item_key, rule_id, severity, delivery, created, payload
		FROM pending WHERE delivery = ? ORDER BY created, id`, delivery)
	if err != nil {
		return nil, fmt.Errorf("list pending: %w", err)
	}
	defer rows.Close()
	var out []Pending
	for rows.Next() {
		var p Pending
		var created int64
		if err := rows.Scan(&p.ID, &p.Recipient, &p.SchoolID, &p.ItemKey, &p.RuleID, &p.Severity, &p.Delivery, &created, &p.Payload); err != nil {
			return nil, fmt.Errorf("list pending: %w", err)
		}
		p.Created = fromMS(created)
		out = append(out, p)
	}
	return out, rows.Err()
}
