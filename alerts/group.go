package alerts

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/schoolwatch/schoolwatch/store"
)

// Entry is one item in a mail, with every rule it matched for this recipient.
type Entry struct {
	Finding           // the most severe of the item's findings
	Rules   []Finding // all of them, most severe first
}

// Group is the findings one mail carries: for one recipient, and for an
// immediate mail one school.
type Group struct {
	Recipient string
	SchoolID  string
	Kind      string // "alert" or "digest"
	Entries   []Entry
	pending   []int64
	itemKeys  []string
	key       string
	oldest    time.Time // when its oldest finding was queued
	critical  bool
}

// Grouper turns pending findings into mails in the outbox.
type Grouper struct {
	Store     *store.Store
	Renderer  *Renderer
	GroupWait time.Duration
	Log       *slog.Logger
	Metrics   *Metrics
	// Wake, if set, is called after mail was enqueued (to start the sender).
	Wake func()
}

// Flush enqueues a mail for every recipient-and-school group that is due:
// its oldest finding has waited GroupWait, or it holds a critical finding,
// or force is set (shutdown, the once command). It returns how many mails
// were enqueued.
func (g *Grouper) Flush(ctx context.Context, now time.Time, force bool) (int, error) {
	ps, err := g.Store.ListPending(ctx, "immediate")
	if err != nil {
		return 0, err
	}
	groups := groupPending(ps, "alert", func(p store.Pending) string { return p.Recipient + "\x00" + p.SchoolID })
	n := 0
	for _, grp := range groups {
		if !force && !grp.critical && grp.oldest.Add(g.GroupWait).After(now) {
			continue
		}
		ok, err := g.enqueue(ctx, now, grp)
		if err != nil {
			return n, err
		}
		if ok {
			n++
		}
	}
	return n, nil
}

// Digest enqueues one digest mail per recipient holding every pending
// digest finding. An empty digest is not sent.
func (g *Grouper) Digest(ctx context.Context, now time.Time) (int, error) {
	ps, err := g.Store.ListPending(ctx, "digest")
	if err != nil {
		return 0, err
	}
	n := 0
	for _, grp := range groupPending(ps, "digest", func(p store.Pending) string { return p.Recipient }) {
		ok, err := g.enqueue(ctx, now, grp)
		if err != nil {
			return n, err
		}
		if ok {
			n++
		}
	}
	return n, nil
}

func (g *Grouper) enqueue(ctx context.Context, now time.Time, grp *Group) (bool, error) {
	m, err := g.Renderer.Render(grp, now)
	if err != nil {
		return false, fmt.Errorf("render %s for %s: %w", grp.Kind, grp.Recipient, err)
	}
	added, err := g.Store.Enqueue(ctx, now, m, grp.pending, grp.itemKeys)
	if err != nil {
		return false, err
	}
	if added {
		g.Metrics.enqueued(grp.Kind)
		g.log().Info("mail queued", "kind", grp.Kind, "school", grp.SchoolID, "findings", len(grp.pending), "key", m.Key)
		if g.Wake != nil {
			g.Wake()
		}
	}
	return added, nil
}

func (g *Grouper) log() *slog.Logger {
	if g.Log != nil {
		return g.Log
	}
	return slog.Default()
}

// groupPending groups rows by key, merging findings on the same item into
// one entry, most severe first, and gives each group a content key.
func groupPending(ps []store.Pending, kind string, keyOf func(store.Pending) string) []*Group {
	byKey := map[string]*Group{}
	var order []string
	for _, p := range ps {
		k := keyOf(p)
		grp := byKey[k]
		if grp == nil {
			grp = &Group{Recipient: p.Recipient, SchoolID: p.SchoolID, Kind: kind}
			byKey[k] = grp
			order = append(order, k)
		}
		grp.pending = append(grp.pending, p.ID)
		if grp.oldest.IsZero() || p.Created.Before(grp.oldest) {
			grp.oldest = p.Created
		}
		grp.critical = grp.critical || p.Severity == SeverityRank(Critical)
		f, err := decodeFinding(p.Payload)
		if err != nil {
			// A payload we cannot read still must not vanish silently:
			// carry what the row itself says.
			f = Finding{ItemKey: p.ItemKey, SchoolID: p.SchoolID, RuleID: p.RuleID, Title: "(unreadable finding)", Severity: "high"}
		}
		i := slices.IndexFunc(grp.Entries, func(e Entry) bool { return e.ItemKey == p.ItemKey })
		if i < 0 {
			grp.Entries = append(grp.Entries, Entry{Finding: f})
			grp.itemKeys = append(grp.itemKeys, p.ItemKey)
			i = len(grp.Entries) - 1
		}
		grp.Entries[i].Rules = append(grp.Entries[i].Rules, f)
	}
	out := make([]*Group, 0, len(order))
	for _, k := range order {
		grp := byKey[k]
		var ids []string
		for i := range grp.Entries {
			e := &grp.Entries[i]
			slices.SortStableFunc(e.Rules, func(a, b Finding) int { return cmp.Compare(SeverityRank(a.Severity), SeverityRank(b.Severity)) })
			e.Finding = e.Rules[0]
			for _, r := range e.Rules {
				ids = append(ids, r.ItemKey+"/"+r.RuleID)
			}
		}
		slices.SortStableFunc(grp.Entries, func(a, b Entry) int {
			if c := cmp.Compare(SeverityRank(a.Severity), SeverityRank(b.Severity)); c != 0 {
				return c
			}
			return b.Published.Compare(a.Published)
		})
		slices.Sort(ids)
		h := sha256.Sum256([]byte(kind + "\x00" + grp.Recipient + "\x00" + strings.Join(ids, "\x00")))
		grp.key = kind + "-" + hex.EncodeToString(h[:12])
		out = append(out, grp)
	}
	return out
}
