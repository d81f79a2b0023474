package store

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Item is one feed item to record as seen, with the findings it produced
// already routed to recipients.
type Item struct {
	Key string // stable identity
	// AltKeys are other identities of the same story (its canonical link
	// and content when Key is a GUID). The item is new only if none of Key
	// and AltKeys was seen; all of them are recorded.
	AltKeys   []string
	FeedID    string
	Published time.Time
	// Content fingerprints the text the rules matched ("" if unknown).
	// When Key was recorded with another Content, the item was edited.
	Content string
	// Findings are the (rule, school) pairs Content produced. They are
	// remembered with the item, so that an edit alerts only on pairs the
	// item never produced before.
	Findings []Finding
	// Alert is false for items that must be recorded but never alert
	// (older than max_item_age).
	Alert   bool
	Pending []Pending
	// Evidence, if set, is kept (evidence.go) under the key of the pending
	// rows queued for the item, when any are.
	Evidence *Evidence
}

// Finding is a (rule, school) pair that an item's content produced.
type Finding struct {
	Rule, School string
}

// Outcome is what recording made of one item.
type Outcome struct {
	// New: none of the item's keys had been recorded; its pending
	// findings were queued.
	New bool
	// Edited: the item's Key was recorded with another Content. Its
	// findings are now the union of the old and the new.
	Edited bool
	// Added are the findings of an edited item that it had not produced
	// before; the pending rows for them were queued.
	Added []Finding
}

// RecordItems is Record reporting only, for each item, whether it was new.
func (s *Store) RecordItems(ctx context.Context, now time.Time, items []Item) (isNew []bool, err error) {
	out, err := s.Record(ctx, now, items)
	if err != nil || out == nil {
		return nil, err
	}
	isNew = make([]bool, len(out))
	for i, o := range out {
		isNew[i] = o.New
	}
	return isNew, nil
}

// Record marks items seen and queues the pending findings they may alert
// with, all in one transaction.
//
// An item none of whose keys was recorded before is new: all its pending
// findings are queued. An item already seen (from this feed or another, or
// earlier in items) queues nothing, so the same story alerts once, unless
// it was edited: its Key was recorded with another Content. Then only the
// pending findings for (rule, school) pairs it did not produce before are
// queued, under a key naming this version of the item (the alert log
// already holds the item's own key if an earlier version was mailed).
// An edit whose new text was already seen under another item's key (a copy
// of it in another feed) queues nothing: that copy raised its findings.
func (s *Store) Record(ctx context.Context, now time.Time, items []Item) ([]Outcome, error) {
	if len(items) == 0 {
		return nil, nil
	}
	out := make([]Outcome, len(items))
	err := s.batchTx(ctx, func(tx *sql.Tx) error {
		clear(out)
		seen := tx.StmtContext(ctx, s.hot.seenInsert)
		// Prepared at the first item seen before, for the rest: after a
		// restart a poll's items are mostly such.
		var sel *sql.Stmt
		defer func() {
			if sel != nil {
				sel.Close()
			}
		}()
		for i, it := range items {
			o := &out[i]
			res, err := seen.ExecContext(ctx, it.Key, it.FeedID, ms(now), ms(it.Published), it.Content, encodeFindings(it.Findings))
			if err != nil {
				return err
			}
			fresh := true
			if n, _ := res.RowsAffected(); n == 0 {
				fresh = false
				if it.Content != "" {
					if sel == nil {
						if sel, err = tx.PrepareContext(ctx, qSeenContent); err != nil {
							return err
						}
					}
					if o.Edited, o.Added, err = recheck(ctx, tx, sel, it); err != nil {
						return err
					}
				}
			}
			for _, key := range it.AltKeys {
				res, err := seen.ExecContext(ctx, key, it.FeedID, ms(now), ms(it.Published), "", "")
				if err != nil {
					return err
				}
				if n, _ := res.RowsAffected(); n == 0 {
					fresh = false
					o.Added = nil
				}
			}
			o.New = fresh
			if !it.Alert {
				o.Added = nil
				continue
			}
			switch {
			case fresh:
				for _, p := range it.Pending {
					p.ItemKey = it.Key
					if it.Evidence != nil {
						p.link = it.Evidence.Link
					}
					if err := insertPending(ctx, tx, now, p); err != nil {
						return err
					}
				}
				if it.Evidence != nil && len(it.Pending) > 0 {
					if err := putEvidence(ctx, tx, now, it.Key, it.Evidence); err != nil {
						return err
					}
				}
			case len(o.Added) > 0:
				queued := false
				for _, p := range it.Pending {
					if !slices.Contains(o.Added, Finding{Rule: p.RuleID, School: p.SchoolID}) {
						continue
					}
					p.ItemKey = it.Key + "#" + it.Content
					if it.Evidence != nil {
						p.link = it.Evidence.Link
					}
					if err := insertPending(ctx, tx, now, p); err != nil {
						return err
					}
					queued = true
				}
				if it.Evidence != nil && queued {
					if err := putEvidence(ctx, tx, now, it.Key+"#"+it.Content, it.Evidence); err != nil {
						return err
					}
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("record items: %w", err)
	}
	return out, nil
}

// recheck compares the recorded content of it's Key with its own: when they
// differ,
// the item was edited, and added are its findings that the recorded ones
// lack. The row takes the new content and the union of the findings. A row
// recorded before contents were takes this one without being an edit.
func recheck(ctx context.Context, tx *sql.Tx, sel *sql.Stmt, it Item) (edited bool, added []Finding, err error) {
	var content, findings string
	if err := sel.QueryRowContext(ctx, it.Key).Scan(&content, &findings); err != nil {
		return false, nil, err
	}
	if content == it.Content {
		return false, nil, nil
	}
	had := decodeFindings(findings)
	all := had
	for _, f := range it.Findings {
		if !slices.Contains(had, f) {
			added = append(added, f)
			all = append(all, f)
		}
	}
	if _, err := tx.ExecContext(ctx, `UPDATE seen_items SET content = ?, findings = ? WHERE key = ?`, it.Content, encodeFindings(all), it.Key); err != nil {
		return false, nil, err
	}
	if content == "" {
		return false, nil, nil
	}
	return true, added, nil
}

// encodeFindings stores findings as sorted "rule\tschool" lines (config ids
// hold no white space).
func encodeFindings(fs []Finding) string {
	if len(fs) == 0 {
		return ""
	}
	lines := make([]string, 0, len(fs))
	for _, f := range fs {
		lines = append(lines, f.Rule+"\t"+f.School)
	}
	slices.Sort(lines)
	return strings.Join(slices.Compact(lines), "\n")
}

func decodeFindings(s string) []Finding {
	if s == "" {
		return nil
	}
	var out []Finding
	for line := range strings.SplitSeq(s, "\n") {
		rule, school, _ := strings.Cut(line, "\t")
		out = append(out, Finding{Rule: rule, School: school})
	}
	return out
}

const qSeenContent = `SELECT content, findings FROM seen_items WHERE key = ?`

const qSeenInsert = `INSERT OR IGNORE INTO seen_items (key, feed_id, first_seen, published, content, findings) VALUES (?, ?, ?, ?, ?, ?)`

// Seen reports whether an item key has been recorded.
func (s *Store) Seen(ctx context.Context, key string) (bool, error) {
	var n int
	err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM seen_items WHERE key = ?`, key).Scan(&n)
	return n > 0, err
}
