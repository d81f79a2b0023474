package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"
)

// Outbox statuses.
const (
	StatusPending = "pending"
	StatusSent    = "sent"
	StatusFailed  = "failed"
)

// Message is one rendered mail in the outbox.
type Message struct {
	ID          int64
	Key         string // content key; also the basis of the Message-ID
	Kind        string // alert | digest | notice | heartbeat | test
	Recipient   string
	Subject     string
	Raw         []byte // the complete RFC 5322 message
	Status      string
	Attempts    int
	NextAttempt time.Time
	LastError   string
	Created     time.Time
	SentAt      time.Time
}

// Enqueue stores m for delivery and, in the same transaction, deletes the
// pending findings it carries and logs (recipient, item) for each item key,
// so that a crash leaves either the findings or the mail, never both or
// neither. A message whose key is already in the outbox is not stored again;
// Enqueue then reports false.
func (s *Store) Enqueue(ctx context.Context, now time.Time, m Message, pendingIDs []int64, itemKeys []string) (bool, error) {
	var added bool
	err := s.tx(ctx, func(tx *sql.Tx) (err error) {
		if s.postgres {
			if err := claimPending(ctx, tx, pendingIDs); err != nil {
				return err
			}
		}
		added, err = enqueue(ctx, tx, now, m, pendingIDs, itemKeys)
		return err
	})
	if errors.Is(err, errPendingGone) {
		return false, nil // another replica mailed these findings
	}
	if err != nil {
		return false, fmt.Errorf("enqueue %s: %w", m.Key, err)
	}
	return added, nil
}

func enqueue(ctx context.Context, tx *sql.Tx, now time.Time, m Message, pendingIDs []int64, itemKeys []string) (added bool, err error) {
	res, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO outbox (key, kind, recipient, subject, message, status, next_attempt, created)
		VALUES (?, ?, ?, ?, ?, 'pending', ?, ?)`, m.Key, m.Kind, m.Recipient, m.Subject, m.Raw, ms(now), ms(now))
	if err != nil {
		return false, err
	}
	n, _ := res.RowsAffected()
	for _, id := range pendingIDs {
		if _, err := tx.ExecContext(ctx, `DELETE FROM pending WHERE id = ?`, id); err != nil {
			return false, err
		}
	}
	for _, k := range itemKeys {
		if _, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO alert_log (recipient, item_key, outbox_key, created) VALUES (?, ?, ?, ?)`,
			m.Recipient, k, m.Key, ms(now)); err != nil {
			return false, err
		}
	}
	return n > 0, nil
}

// DueCapped returns up to limit pending messages whose next attempt is at
// or before now, for a sender that never delays a retry by more than
// maxDelay: a message whose next attempt lies more than maxDelay after now
// is due as well. No delay that sender sets reaches that far, so the
// deadline was written by a clock that has since been stepped back, and
// honouring it would hold the mail for as long as the step. Such a
// message's NextAttempt is reported as now. A maxDelay of zero or less
// caps nothing.
func (s *Store) DueCapped(ctx context.Context, now time.Time, maxDelay time.Duration, limit int) ([]Message, error) {
	latest := int64(math.MaxInt64)
	if maxDelay > 0 {
		latest = ms(now.Add(maxDelay))
	}
	if s.postgres {
		out, err := s.pgClaimDue(ctx, now, latest, limit)
		for i := range out {
			if out[i].NextAttempt.After(now) {
				out[i].NextAttempt = now
			}
		}
		return out, err
	}
	rows, err := s.db.QueryContext(ctx, `SELECT id, key, kind, recipient, subject, message, status, attempts, next_attempt, last_error, created, sent_at
		FROM outbox WHERE status = 'pending' AND (next_attempt <= ? OR next_attempt > ?) ORDER BY next_attempt, id LIMIT ?`, ms(now), latest, limit)
	if err != nil {
		return nil, fmt.Errorf("outbox due: %w", err)
	}
	defer rows.Close()
	out, err := scanMessages(rows)
	for i := range out {
		if out[i].NextAttempt.After(now) {
			out[i].NextAttempt = now
		}
	}
	return out, err
}

// Messages returns outbox messages with status ("" for all), newest first.
func (s *Store) Messages(ctx context.Context, status string, limit int) ([]Message, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, key, kind, recipient, subject, message, status, attempts, next_attempt, last_error, created, sent_at
		FROM outbox WHERE ? = '' OR status = ? ORDER BY id DESC LIMIT ?`, status, status, limit)
	if err != nil {
		return nil, fmt.Errorf("outbox messages: %w", err)
	}
	defer rows.Close()
	return scanMessages(rows)
}

func scanMessages(rows *sql.Rows) ([]Message, error) {
	var out []Message
	for rows.Next() {
		var m Message
		var next, created, sent int64
		if err := rows.Scan(&m.ID, &m.Key, &m.Kind, &m.Recipient, &m.Subject, &m.Raw, &m.Status, &m.Attempts, &next, &m.LastError, &created, &sent); err != nil {
			return nil, err
		}
		m.NextAttempt, m.Created, m.SentAt = fromMS(next), fromMS(created), fromMS(sent)
		out = append(out, m)
	}
	return out, rows.Err()
}

// NextDue returns when the earliest pending message is due (zero if none).
func (s *Store) NextDue(ctx context.Context) (time.Time, error) {
	if s.postgres {
		return s.pgNextDue(ctx)
	}
	var next sql.NullInt64
	err := s.db.QueryRowContext(ctx, `SELECT MIN(next_attempt) FROM outbox WHERE status = 'pending'`).Scan(&next)
	if err != nil || !next.Valid {
		return time.Time{}, err
	}
	return fromMS(next.Int64), nil
}

// MarkSent records a successful delivery.
func (s *Store) MarkSent(ctx context.Context, id int64, now time.Time) error {
	return s.update(ctx, `UPDATE outbox SET status = 'sent', attempts = attempts + 1, sent_at = ?, last_error = '' WHERE id = ?`, ms(now), id)
}

// MarkRetry records a temporary failure and when to try again.
func (s *Store) MarkRetry(ctx context.Context, id int64, next time.Time, reason string) error {
	return s.update(ctx, `UPDATE outbox SET attempts = attempts + 1, next_attempt = ?, last_error = ? WHERE id = ?`, ms(next), reason, id)
}

// MarkFailed records a permanent failure; the message is not tried again.
func (s *Store) MarkFailed(ctx context.Context, id int64, reason string) error {
	return s.update(ctx, `UPDATE outbox SET status = 'failed', attempts = attempts + 1, last_error = ? WHERE id = ?`, reason, id)
}

func (s *Store) update(ctx context.Context, q string, args ...any) error {
	if s.postgres {
		// Release this replica's claim with the outcome, in the same
		// statement (outbox claims, postgres_outbox.go).
		before, after, _ := strings.Cut(q, " WHERE ")
		q = before + pgRelease + " WHERE " + after
	}
	res, err := s.db.ExecContext(ctx, q, args...)
	if err != nil {
		return fmt.Errorf("outbox: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNoMessage
	}
	return nil
}

// ErrNoMessage is returned by MarkSent, MarkRetry and MarkFailed when the
// outbox has no message with that id.
var ErrNoMessage = errors.New("outbox: no such message")

// OutboxStats reports how many messages wait and when the oldest was created.
func (s *Store) OutboxStats(ctx context.Context) (depth int, oldest time.Time, err error) {
	var min sql.NullInt64
	err = s.db.QueryRowContext(ctx, `SELECT COUNT(*), MIN(created) FROM outbox WHERE status = 'pending'`).Scan(&depth, &min)
	if min.Valid {
		oldest = fromMS(min.Int64)
	}
	return depth, oldest, err
}
