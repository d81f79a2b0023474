package store

import (
	"context"
	"database/sql"
	"fmt"
)

// migrations are applied in order, each once, each in its own transaction.
// Append new ones at the end; never edit one that has shipped.
var migrations = []string{
	// 1: the foundation schema.
	`CREATE TABLE seen_items (
		key        TEXT PRIMARY KEY,
		feed_id    TEXT NOT NULL,
		first_seen INTEGER NOT NULL,
		published  INTEGER NOT NULL DEFAULT 0
	);
	CREATE INDEX seen_items_first_seen ON seen_items(first_seen);
	CREATE TABLE feed_state (
		feed_id        TEXT PRIMARY KEY,
		etag           TEXT NOT NULL DEFAULT '',
		last_modified  TEXT NOT NULL DEFAULT '',
		last_poll      INTEGER NOT NULL DEFAULT 0,
		last_success   INTEGER NOT NULL DEFAULT 0,
		last_new_item  INTEGER NOT NULL DEFAULT 0,
		last_error     TEXT NOT NULL DEFAULT '',
		error_class    TEXT NOT NULL DEFAULT '',
		failing_since  INTEGER NOT NULL DEFAULT 0,
		failures       INTEGER NOT NULL DEFAULT 0,
		next_poll      INTEGER NOT NULL DEFAULT 0,
		items_seen     INTEGER NOT NULL DEFAULT 0
	);
	CREATE TABLE pending (
		id         INTEGER PRIMARY KEY,
		recipient  TEXT NOT NULL,
		school_id  TEXT NOT NULL,
		item_key   TEXT NOT NULL,
		rule_id    TEXT NOT NULL,
		severity   INTEGER NOT NULL,
		delivery   TEXT NOT NULL,
		created    INTEGER NOT NULL,
		payload    BLOB NOT NULL,
		UNIQUE (recipient, item_key, rule_id)
	);
	CREATE TABLE outbox (
		id           INTEGER PRIMARY KEY,
		key          TEXT NOT NULL UNIQUE,
		kind         TEXT NOT NULL,
		recipient    TEXT NOT NULL,
		subject      TEXT NOT NULL,
		message      BLOB NOT NULL,
		status       TEXT NOT NULL DEFAULT 'pending',
		attempts     INTEGER NOT NULL DEFAULT 0,
		next_attempt INTEGER NOT NULL DEFAULT 0,
		last_error   TEXT NOT NULL DEFAULT '',
		created      INTEGER NOT NULL,
		sent_at      INTEGER NOT NULL DEFAULT 0
	);
	CREATE INDEX outbox_due ON outbox(status, next_attempt);
	CREATE TABLE alert_log (
		recipient  TEXT NOT NULL,
		item_key   TEXT NOT NULL,
		outbox_key TEXT NOT NULL,
		created    INTEGER NOT NULL,
		PRIMARY KEY (recipient, item_key)
	);
	CREATE INDEX alert_log_created ON alert_log(created);`,
	// feed-health notice log (issue 9): which condition was last notified
	// for each feed and when, so restarts repeat nothing and reminders are
	// at most daily.
	`CREATE TABLE feed_notices (
		feed_id   TEXT PRIMARY KEY,
		condition TEXT NOT NULL,
		since     INTEGER NOT NULL DEFAULT 0,
		last_sent INTEGER NOT NULL DEFAULT 0
	);`,
	// hostile inputs (issue 13): an item's content fingerprint and the
	// (rule, school) findings it has produced, so an edit is matched again
	// and alerts only on what is new; and a feed's last document's hash, so
	// a 200 with an unchanged ETag is still parsed when its body changed.
	// Rows from before have no fingerprint: the next sight of the item
	// records one without alerting.
	`ALTER TABLE seen_items ADD COLUMN content TEXT NOT NULL DEFAULT '';
	ALTER TABLE seen_items ADD COLUMN findings TEXT NOT NULL DEFAULT '';
	ALTER TABLE feed_state ADD COLUMN body_hash TEXT NOT NULL DEFAULT '';`,
	// stream feeds (issue 20): where a Jetstream subscription has recorded
	// up to (an event's time_us), so a restart resumes the stream there.
	`ALTER TABLE feed_state ADD COLUMN cursor INTEGER NOT NULL DEFAULT 0;`,
	// evidence (issue 16), after the stream cursor (issue 20): each alerting post as fetched, with the feed
	// response's Date and ETag and the SHA-256 of its content, kept for the
	// retention period so that a later screenshot can be matched to it.
	`CREATE TABLE evidence (
		item_key      TEXT PRIMARY KEY,
		feed_id       TEXT NOT NULL,
		feed_name     TEXT NOT NULL DEFAULT '',
		title         TEXT NOT NULL DEFAULT '',
		text          TEXT NOT NULL DEFAULT '',
		author        TEXT NOT NULL DEFAULT '',
		link          TEXT NOT NULL DEFAULT '',
		published     INTEGER NOT NULL DEFAULT 0,
		dated         INTEGER NOT NULL DEFAULT 0,
		first_seen    INTEGER NOT NULL,
		response_date TEXT NOT NULL DEFAULT '',
		response_etag TEXT NOT NULL DEFAULT '',
		sha256        TEXT NOT NULL
	);
	CREATE INDEX evidence_first_seen ON evidence(first_seen);`,
	// incidents (issue 21): each alert mailed, per school, post and
	// recipient, with what the recipient did about it; mutes; the key
	// that signs action links; and "not relevant" examples for retraining.
	`CREATE TABLE incidents (
		id          INTEGER PRIMARY KEY,
		school_id   TEXT NOT NULL,
		school_name TEXT NOT NULL DEFAULT '',
		item_key    TEXT NOT NULL,
		recipient   TEXT NOT NULL,
		category    TEXT NOT NULL DEFAULT '',
		severity    TEXT NOT NULL DEFAULT '',
		rule_id     TEXT NOT NULL DEFAULT '',
		findings    TEXT NOT NULL DEFAULT '',
		title       TEXT NOT NULL DEFAULT '',
		link        TEXT NOT NULL DEFAULT '',
		text        TEXT NOT NULL DEFAULT '',
		created     INTEGER NOT NULL,
		status      TEXT NOT NULL DEFAULT 'new',
		acted_by    TEXT NOT NULL DEFAULT '',
		acted_at    INTEGER NOT NULL DEFAULT 0,
		note        TEXT NOT NULL DEFAULT '',
		UNIQUE (school_id, item_key, recipient)
	);
	CREATE INDEX incidents_created ON incidents(created);
	CREATE TABLE mutes (
		school_id TEXT NOT NULL,
		item_key  TEXT NOT NULL,
		link      TEXT NOT NULL DEFAULT '',
		until     INTEGER NOT NULL,
		PRIMARY KEY (school_id, item_key)
	);
	CREATE TABLE suppressed (
		id        INTEGER PRIMARY KEY,
		school_id TEXT NOT NULL,
		item_key  TEXT NOT NULL,
		muted_key TEXT NOT NULL,
		recipient TEXT NOT NULL,
		created   INTEGER NOT NULL,
		reported  INTEGER NOT NULL DEFAULT 0,
		UNIQUE (recipient, item_key)
	);
	CREATE TABLE settings (
		name  TEXT PRIMARY KEY,
		value BLOB NOT NULL
	);`,
}

func (s *Store) migrate(ctx context.Context) error {
	if s.postgres {
		return s.migratePostgres(ctx)
	}
	if _, err := s.db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)`); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	var v int
	if err := s.db.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_version`).Scan(&v); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	if v > len(migrations) {
		return fmt.Errorf("migrate: database schema version %d is newer than this schoolwatch understands (%d)", v, len(migrations))
	}
	for i := v; i < len(migrations); i++ {
		err := s.tx(ctx, func(tx *sql.Tx) error {
			if _, err := tx.ExecContext(ctx, migrations[i]); err != nil {
				return err
			}
			_, err := tx.ExecContext(ctx, `INSERT INTO schema_version (version) VALUES (?)`, i+1)
			return err
		})
		if err != nil {
			return fmt.Errorf("migrate to version %d: %w", i+1, err)
		}
	}
	return nil
}
