package daemon

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/schoolwatch/schoolwatch/alerts"
	"github.com/schoolwatch/schoolwatch/rules"
	"github.com/schoolwatch/schoolwatch/store"
	"github.com/schoolwatch/schoolwatch/watchers"
)

// intake is the watchers' Sink: it matches each polled item against the
// schools and rules, routes the findings, and records items and findings in
// one transaction.
type intake struct {
	store   *store.Store // nil: dry run, nothing recorded
	detect  *detector
	router  *alerts.Router
	metrics *alerts.Metrics
	// onFinding, if set, sees every finding on an item that may alert.
	onFinding func(watchers.Item, rules.Finding)
	// critical, if set, is called when a critical finding was recorded.
	critical func()
	// adjust, if set, may change an item's findings before they are
	// routed (Report keeps the reported school's, or gives one).
	adjust func(watchers.Item, []rules.Finding) []rules.Finding

	mu sync.Mutex // serialises onFinding
}

// Items implements watchers.Sink.
func (in *intake) Items(ctx context.Context, f watchers.Feed, items []watchers.Item, now time.Time) (watchers.Counts, error) {
	recs := make([]store.Item, 0, len(items))
	var found [][]rules.Finding
	for _, it := range items {
		rec := store.Item{Key: it.Key, AltKeys: it.AltKeys, FeedID: it.FeedID, Published: it.Published, Content: it.Fingerprint, Alert: !it.TooOld}
		var fs []rules.Finding
		if rec.Alert {
			fs = in.detect.Detect(it.Content())
			if in.adjust != nil {
				fs = in.adjust(it, fs)
			}
			rec.Pending = in.router.Route(it, fs)
			if len(rec.Pending) > 0 {
				// What the mails will say was seen, kept before it can change.
				rec.Evidence = &store.Evidence{
					FeedID: it.FeedID, FeedName: it.FeedName, Title: it.Title, Text: it.Text, Author: it.Author, Link: it.Link,
					Published: it.Published, Dated: it.Dated, ResponseDate: it.ResponseDate, ResponseETag: it.ResponseETag,
				}
			}
			for _, fd := range fs {
				rec.Findings = append(rec.Findings, store.Finding{Rule: fd.Rule, School: fd.School})
			}
		}
		found = append(found, fs)
		recs = append(recs, rec)
	}
	if in.store == nil {
		n := 0
		for i, it := range items {
			if !it.TooOld {
				n++
				in.report(it, found[i])
			}
		}
		return watchers.Counts{New: len(items), TooOld: len(items) - n}, nil
	}
	outs, err := in.store.Record(ctx, now, recs)
	if err != nil {
		return watchers.Counts{}, err
	}
	var c watchers.Counts
	critical := false
	for i, it := range items {
		o := outs[i]
		fs := found[i]
		switch {
		case o.New:
			c.New++
			if it.TooOld {
				c.TooOld++
				continue
			}
		case o.Edited:
			// Matched again: only the findings the item never had before
			// were queued, and only they are reported.
			c.Edited++
			fs = slices.DeleteFunc(slices.Clone(fs), func(fd rules.Finding) bool {
				return !slices.Contains(o.Added, store.Finding{Rule: fd.Rule, School: fd.School})
			})
		default:
			continue
		}
		in.report(it, fs)
		for _, fd := range fs {
			critical = critical || rules.Severity(fd.Severity) == rules.Critical
		}
	}
	if critical && in.critical != nil {
		in.critical()
	}
	return c, nil
}

// relevant reports whether a streamed post's text names a school: a
// firehose carries every public post, and the rest need not be recorded
// (a rule fires only on a text that names a school).
func (in *intake) relevant(text string) bool {
	return len(in.detect.matcher.MentionedSchools(text)) > 0
}

func (in *intake) report(it watchers.Item, fs []rules.Finding) {
	for _, fd := range fs {
		in.metrics.Finding(fd.Rule, fd.Category, fd.Severity)
		if in.onFinding != nil {
			in.mu.Lock()
			in.onFinding(it, fd)
			in.mu.Unlock()
		}
	}
}
