package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"
)

// Incident statuses, as /alerts.csv and the incident log show them.
const (
	StatusNew          = "new"
	StatusAcknowledged = "acknowledged"
	StatusNotRelevant  = "not relevant"
	StatusMuted        = "muted"
)

// Incident is one alert mailed to one recipient about one post for one
// school, with what the recipient did about it.
type Incident struct {
	ID         int64
	SchoolID   string
	SchoolName string
	ItemKey    string
	Recipient  string
	Category   string
	Severity   string
	RuleID     string
	Findings   string // the categories of every finding, comma-separated
	Title      string
	Link       string
	Text       string
	Created    time.Time
	Status     string
	ActedBy    string
	ActedAt    time.Time
	Note       string
}

// ErrNoIncident is returned for an alert the store does not hold.
var ErrNoIncident = errors.New("no such alert")

// RecordIncidents keeps the alerts a queued mail carried. An alert already
// recorded (the same school, post and recipient) keeps its status.
func (s *Store) RecordIncidents(ctx context.Context, now time.Time, in []Incident) error {
	return s.tx(ctx, func(tx *sql.Tx) error { return recordIncidents(ctx, tx, now, in) })
}

// EnqueueRecorded is Enqueue that also records the alerts the mail
// carries in the incident log, in the same transaction: by the time the
// sender can deliver the mail, its action links name recorded alerts.
func (s *Store) EnqueueRecorded(ctx context.Context, now time.Time, m Message, pendingIDs []int64, itemKeys []string, in []Incident) (bool, error) {
	var added bool
	err := s.tx(ctx, func(tx *sql.Tx) (err error) {
		if added, err = enqueue(ctx, tx, now, m, pendingIDs, itemKeys); err != nil || !added {
			return err
		}
		return recordIncidents(ctx, tx, now, in)
	})
	if err != nil {
		return false, fmt.Errorf("enqueue %s: %w", m.Key, err)
	}
	return added, nil
}

func recordIncidents(ctx context.Context, tx *sql.Tx, now time.Time, in []Incident) error {
	for _, i := range in {
		created := now
		if !i.Created.IsZero() {
			created = i.Created
		}
		if _, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO incidents (school_id, school_name, item_key, recipient, category, severity, rule_id, findings, title, link, text, created)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, i.SchoolID, i.SchoolName, i.ItemKey, i.Recipient, i.Category, i.Severity, i.RuleID, i.Findings, i.Title, i.Link, i.Text, ms(created)); err != nil {
			return fmt.Errorf("record incident: %w", err)
		}
	}
	return nil
}

const incidentCols = `id, school_id, school_name, item_key, recipient, category, severity, rule_id, findings, title, link, text, created, status, acted_by, acted_at, note`

func scanIncidents(rows *sql.Rows) ([]Incident, error) {
	defer rows.Close()
	var out []Incident
	for rows.Next() {
		var i Incident
		var created, acted int64
		if err := rows.Scan(&i.ID, &i.SchoolID, &i.SchoolName, &i.ItemKey, &i.Recipient, &i.Category, &i.Severity, &i.RuleID, &i.Findings, &i.Title, &i.Link, &i.Text, &created, &i.Status, &i.ActedBy, &acted, &i.Note); err != nil {
			return nil, err
		}
		i.Created = fromMS(created)
		if acted != 0 {
			i.ActedAt = fromMS(acted)
		}
		out = append(out, i)
	}
	return out, rows.Err()
}

// IncidentFor returns the alert about itemKey for schoolID mailed to recipient.
func (s *Store) IncidentFor(ctx context.Context, schoolID, itemKey, recipient string) (Incident, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+incidentCols+` FROM incidents WHERE school_id = ? AND item_key = ? AND recipient = ?`, schoolID, itemKey, recipient)
	if err != nil {
		return Incident{}, fmt.Errorf("incident: %w", err)
	}
	out, err := scanIncidents(rows)
	if err != nil {
		return Incident{}, fmt.Errorf("incident: %w", err)
	}
	if len(out) == 0 {
		return Incident{}, ErrNoIncident
	}
	return out[0], nil
}

// Incidents returns the alerts recorded since since, newest first, at most
// limit (0: all).
func (s *Store) Incidents(ctx context.Context, since time.Time, limit int) ([]Incident, error) {
	if limit <= 0 {
		limit = math.MaxInt32 // all: a LIMIT both SQLite and Postgres take
	}
	rows, err := s.db.QueryContext(ctx, `SELECT `+incidentCols+` FROM incidents WHERE created >= ? ORDER BY created DESC, id DESC LIMIT ?`, ms(since), limit)
	if err != nil {
		return nil, fmt.Errorf("incidents: %w", err)
	}
	out, err := scanIncidents(rows)
	if err != nil {
		return nil, fmt.Errorf("incidents: %w", err)
	}
	return out, nil
}

// ActOnIncident records what recipient did about an alert: status is
// StatusAcknowledged, StatusNotRelevant or StatusMuted. Muting also
// suppresses further alerts about the post for the school until muteUntil.
func (s *Store) ActOnIncident(ctx context.Context, now time.Time, schoolID, itemKey, recipient, status, note string, muteUntil time.Time) error {
	switch status {
	case StatusAcknowledged, StatusNotRelevant, StatusMuted:
	default:
		return fmt.Errorf("act on incident: unknown status %q", status)
	}
	return s.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE incidents SET status = ?, acted_by = ?, acted_at = ?, note = ? WHERE school_id = ? AND item_key = ? AND recipient = ?`,
			status, recipient, ms(now), note, schoolID, itemKey, recipient)
		if err != nil {
			return fmt.Errorf("act on incident: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrNoIncident
		}
		if status == StatusMuted {
			var link string
			_ = tx.QueryRowContext(ctx, `SELECT link FROM incidents WHERE school_id = ? AND item_key = ? AND recipient = ?`, schoolID, itemKey, recipient).Scan(&link)
			if _, err := tx.ExecContext(ctx, `INSERT INTO mutes (school_id, item_key, link, until) VALUES (?, ?, ?, ?)
				ON CONFLICT (school_id, item_key) DO UPDATE SET until = excluded.until, link = excluded.link`, schoolID, itemKey, link, ms(muteUntil)); err != nil {
				return fmt.Errorf("mute: %w", err)
			}
		}
		return nil
	})
}

// Muted reports whether alerts about itemKey (or a post at link, when
// link is set) are muted for schoolID at now.
func (s *Store) Muted(ctx context.Context, now time.Time, schoolID, itemKey, link string) (bool, error) {
	var n int
	err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM mutes WHERE school_id = ? AND until > ? AND (item_key = ? OR (? <> '' AND link = ?))`,
		schoolID, ms(now), itemKey, link, link).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("muted: %w", err)
	}
	return n > 0, nil
}

// mutedTx returns the muted post's key if itemKey, the post it is an edit
// of ("key#fingerprint") or a post at link is muted for schoolID at now;
// "" if not.
func mutedTx(ctx context.Context, tx *sql.Tx, now time.Time, schoolID, itemKey, link string) (string, error) {
	base, _, _ := strings.Cut(itemKey, "#")
	var k string
	err := tx.QueryRowContext(ctx, `SELECT item_key FROM mutes WHERE school_id = ? AND until > ? AND (item_key IN (?, ?) OR (? <> '' AND link = ?)) LIMIT 1`,
		schoolID, ms(now), itemKey, base, link, link).Scan(&k)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return k, err
}

// Suppression is an alert a mute held back, for the digest to report.
type Suppression struct {
	ID                      int64
	SchoolID, SchoolName    string
	ItemKey, Title, MutedBy string
	Created                 time.Time
}

// Suppressions returns the alerts to recipient that mutes held back and
// no digest has reported yet, oldest first.
func (s *Store) Suppressions(ctx context.Context, recipient string) ([]Suppression, error) {
	// The mute's details are three subqueries, not one concatenation:
	// Postgres text cannot hold the NUL a separator would need.
	const mute = `FROM incidents i WHERE i.school_id = s.school_id AND i.item_key = s.muted_key AND i.status = 'muted' ORDER BY i.acted_at DESC LIMIT 1`
	rows, err := s.db.QueryContext(ctx, `SELECT s.id, s.school_id, s.item_key, s.created,
		COALESCE((SELECT i.school_name `+mute+`), ''), COALESCE((SELECT i.title `+mute+`), ''), COALESCE((SELECT i.acted_by `+mute+`), '')
		FROM suppressed s WHERE s.recipient = ? AND s.reported = 0 ORDER BY s.created, s.id`, recipient)
	if err != nil {
		return nil, fmt.Errorf("suppressions: %w", err)
	}
	defer rows.Close()
	var out []Suppression
	for rows.Next() {
		var x Suppression
		var created int64
		if err := rows.Scan(&x.ID, &x.SchoolID, &x.ItemKey, &created, &x.SchoolName, &x.Title, &x.MutedBy); err != nil {
			return nil, fmt.Errorf("suppressions: %w", err)
		}
		x.Created = fromMS(created)
		out = append(out, x)
	}
	return out, rows.Err()
}

// MarkSuppressionsReported records that a digest reported these.
func (s *Store) MarkSuppressionsReported(ctx context.Context, ids []int64) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		for _, id := range ids {
			if _, err := tx.ExecContext(ctx, `UPDATE suppressed SET reported = 1 WHERE id = ?`, id); err != nil {
				return fmt.Errorf("mark suppressions: %w", err)
			}
		}
		return nil
	})
}

// StatusOf returns the latest action any recipient at schoolID took on
// the post itemKey (or the post it is an edit of), for a later mail about
// it to show; ok is false when nobody has acted on it.
func (s *Store) StatusOf(ctx context.Context, schoolID, itemKey string) (in Incident, ok bool, err error) {
	base, _, _ := strings.Cut(itemKey, "#")
	rows, err := s.db.QueryContext(ctx, `SELECT `+incidentCols+` FROM incidents WHERE school_id = ? AND (item_key IN (?, ?) OR item_key LIKE ? ESCAPE '\') AND acted_at > 0
		ORDER BY acted_at DESC, id DESC LIMIT 1`, schoolID, itemKey, base, likeEscape(base)+"#%")
	if err != nil {
		return Incident{}, false, fmt.Errorf("status of %s: %w", itemKey, err)
	}
	out, err := scanIncidents(rows)
	if err != nil || len(out) == 0 {
		return Incident{}, false, err
	}
	return out[0], true, nil
}

func likeEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// LinkKey returns the key that signs action links: generated at random
// (32 bytes) the first time and kept in the store from then on.
func (s *Store) LinkKey(ctx context.Context) ([]byte, error) {
	var key []byte
	err := s.tx(ctx, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, `SELECT value FROM settings WHERE name = 'link_key'`).Scan(&key)
		if err == nil {
			return nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		key = make([]byte, 32)
		if _, err := rand.Read(key); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO settings (name, value) VALUES ('link_key', ?)`, key)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("link key: %w", err)
	}
	return key, nil
}
