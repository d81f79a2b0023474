package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Evidence is what schoolwatch fetched of one post that alerted, kept so
// that a screenshot taken later can be matched to what was seen: the text
// can be edited or deleted within minutes. It is recorded with the item's
// pending findings, in the same transaction, under the key their mails
// carry, and purged with the rest after the retention period.
type Evidence struct {
	// ItemKey is the item key the mail shows: the item's key, or for an
	// edited post the key of that version ("key#fingerprint").
	ItemKey string
	// The feed it came from.
	FeedID, FeedName string
	// The post, as schoolwatch read it: the title and the text (HTML
	// removed, entities decoded), the author and the link as the feed gave
	// them.
	Title, Text, Author, Link string
	// Published is the date the post gave, or when it was first fetched
	// if it gave none (Dated false).
	Published time.Time
	Dated     bool
	// FirstSeen is when schoolwatch first recorded this version.
	FirstSeen time.Time
	// ResponseDate and ResponseETag are the Date and ETag headers of the
	// feed response that carried the post ("" when the response had none,
	// or the feed is a file).
	ResponseDate, ResponseETag string
	// SHA256 is the hex SHA-256 of Content(), computed by the store.
	SHA256 string
}

// Content is the exact text the SHA-256 covers: the title, a blank line and
// the text (the title alone when there is no text), as the rules matched it.
func (e *Evidence) Content() string {
	if e.Text == "" {
		return e.Title
	}
	return e.Title + "\n\n" + e.Text
}

// ContentSHA256 is the hex SHA-256 of content's UTF-8 bytes.
func ContentSHA256(content string) string {
	sum := sha256.Sum256([]byte(content))
	return hex.EncodeToString(sum[:])
}

// ErrNoEvidence is returned by Evidence for a key with no record: never
// alerted, or purged after the retention period.
var ErrNoEvidence = errors.New("no evidence record")

const evidenceColumns = `item_key, feed_id, feed_name, title, text, author, link, published, dated, first_seen, response_date, response_etag, sha256`

// putEvidence records e under key, first seen now, unless the key has a
// record already: the first capture is the one kept.
func putEvidence(ctx context.Context, tx *sql.Tx, now time.Time, key string, e *Evidence) error {
	dated := 0
	if e.Dated {
		dated = 1
	}
	_, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO evidence (`+evidenceColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		key, e.FeedID, e.FeedName, e.Title, e.Text, e.Author, e.Link, ms(e.Published), dated, ms(now), e.ResponseDate, e.ResponseETag, ContentSHA256(e.Content()))
	return err
}

// Evidence returns the record kept for an item key, or ErrNoEvidence.
func (s *Store) Evidence(ctx context.Context, key string) (Evidence, error) {
	m, err := s.EvidenceFor(ctx, []string{key})
	if err != nil {
		return Evidence{}, err
	}
	e, ok := m[key]
	if !ok {
		return Evidence{}, fmt.Errorf("%w for %q", ErrNoEvidence, key)
	}
	return e, nil
}

// EvidenceFor returns the records kept for the given item keys, by key;
// keys without one are absent from the map.
func (s *Store) EvidenceFor(ctx context.Context, keys []string) (map[string]Evidence, error) {
	out := make(map[string]Evidence, len(keys))
	if len(keys) == 0 {
		return out, nil
	}
	q := `SELECT ` + evidenceColumns + ` FROM evidence WHERE item_key IN (?` + strings.Repeat(", ?", len(keys)-1) + `)`
	args := make([]any, len(keys))
	for i, k := range keys {
		args[i] = k
	}
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("evidence: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var e Evidence
		var published, firstSeen int64
		var dated int
		if err := rows.Scan(&e.ItemKey, &e.FeedID, &e.FeedName, &e.Title, &e.Text, &e.Author, &e.Link, &published, &dated, &firstSeen, &e.ResponseDate, &e.ResponseETag, &e.SHA256); err != nil {
			return nil, fmt.Errorf("evidence: %w", err)
		}
		e.Published, e.Dated, e.FirstSeen = fromMS(published), dated != 0, fromMS(firstSeen)
		out[e.ItemKey] = e
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("evidence: %w", err)
	}
	return out, nil
}

// FirstMails returns, for each of the item keys already mailed to
// recipient, the content key of the first mail that carried it (the basis
// of its Message-ID), so a follow-up about the same post can name it. An
// edited post's key ("key#fingerprint") finds the mail about the post
// itself ("key").
func (s *Store) FirstMails(ctx context.Context, recipient string, keys []string) (map[string]string, error) {
	out := map[string]string{}
	for _, k := range keys {
		base, _, _ := strings.Cut(k, "#")
		var ok string
		err := s.db.QueryRowContext(ctx, `SELECT outbox_key FROM alert_log WHERE recipient = ? AND item_key IN (?, ?) ORDER BY created, rowid LIMIT 1`,
			recipient, k, base).Scan(&ok)
		if errors.Is(err, sql.ErrNoRows) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("first mails: %w", err)
		}
		out[k] = ok
	}
	return out, nil
}
