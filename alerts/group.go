package alerts

import (
	"cmp"
	"context"
	"crypto/sha256"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/schoolwatch/schoolwatch/mail"
	"github.com/schoolwatch/schoolwatch/rules"
	"github.com/schoolwatch/schoolwatch/store"
)

// PendingStore holds the routed findings that wait for their mail;
// *store.Store implements it. ListPending returns those with a delivery,
// oldest first; the Outbox's Enqueue deletes the ones a mail carries.
type PendingStore interface {
	Outbox
	ListPending(ctx context.Context, delivery string) ([]store.Pending, error)
}

// IncidentRecorder keeps every alert a queued mail carried, for the
// incident log, in the transaction that queues the mail; *store.Store
// implements it. A PendingStore that does not keeps none.
type IncidentRecorder interface {
	EnqueueRecorded(ctx context.Context, now time.Time, m store.Message, pendingIDs []int64, itemKeys []string, in []store.Incident) (bool, error)
}

// incidents are the rows of the incident log for a group's entries.
func incidents(grp *Group) []store.Incident {
	out := make([]store.Incident, 0, len(grp.Entries))
	for _, e := range grp.Entries {
		var cats []string
		for _, a := range e.Rules {
			if !slices.Contains(cats, string(a.Category)) {
				cats = append(cats, string(a.Category))
			}
		}
		out = append(out, store.Incident{
			SchoolID: e.SchoolID, SchoolName: e.SchoolName, ItemKey: e.ItemKey, Recipient: grp.Recipient,
			Category: string(e.Category), Severity: string(e.Severity), RuleID: e.RuleID, Findings: strings.Join(cats, ","),
			Title: e.Title, Link: e.Link, Text: fragmentsText(e.Excerpt),
		})
	}
	return out
}

func fragmentsText(fs []rules.Fragment) string {
	var b strings.Builder
	for _, f := range fs {
		b.WriteString(f.Text)
	}
	return b.String()
}

// Entry is one item in a mail, with every rule it matched for this recipient.
type Entry struct {
	Alert         // the most severe of the item's alerts
	Rules []Alert // all of them, most severe first
}

// Group is the alerts one mail carries: for one recipient, and for an
// immediate mail one school.
type Group struct {
	Recipient string
	SchoolID  string
	Kind      mail.Kind // KindAlert or KindDigest
	Entries   []Entry
	pending   []int64
	itemKeys  []string
	key       string
	oldest    time.Time // when its oldest finding was queued
	critical  bool
	// suppressed are the alerts to the recipient mutes held back, which
	// a digest reports.
	suppressed []store.Suppression
}

// Suppressor is implemented by a PendingStore that records what mutes held
// back (*store.Store does): the digest reports it, once.
type Suppressor interface {
	Suppressions(ctx context.Context, recipient string) ([]store.Suppression, error)
	MarkSuppressionsReported(ctx context.Context, ids []int64) error
}

// Grouper turns pending findings into mails in the outbox.
type Grouper struct {
	Store     PendingStore
	Renderer  *Renderer
	GroupWait time.Duration
	Log       *slog.Logger // nil discards
	Metrics   *Metrics
	// Wake, if set, is called after mail was enqueued (to start the sender).
	Wake func()
}

// Flush enqueues a mail for every recipient-and-school group that is due:
// its oldest finding has waited GroupWait, or it holds a critical finding,
// or force is set (shutdown, the once command). It returns how many mails
// were enqueued.
func (g *Grouper) Flush(ctx context.Context, now time.Time, force bool) (int, error) {
	return g.queueGroups(ctx, now, rules.Immediate, func(grp *Group) bool {
		return force || grp.critical || !grp.oldest.Add(g.GroupWait).After(now)
	})
}

// Digest enqueues one digest mail per recipient holding every pending
// digest finding. An empty digest is not sent.
func (g *Grouper) Digest(ctx context.Context, now time.Time) (int, error) {
	return g.queueGroups(ctx, now, rules.Digest, func(*Group) bool { return true })
}

// WeeklyDigest is Digest for the findings held for the weekly digest (the
// mentions of leaders who asked for them weekly).
func (g *Grouper) WeeklyDigest(ctx context.Context, now time.Time) (int, error) {
	return g.queueGroups(ctx, now, rules.Weekly, func(*Group) bool { return true })
}

// queueGroups groups the pending findings with delivery d and queues a
// mail for each group that is due. It returns how many mails were new.
func (g *Grouper) queueGroups(ctx context.Context, now time.Time, d rules.Delivery, due func(*Group) bool) (int, error) {
	ps, err := g.Store.ListPending(ctx, string(d))
	if err != nil {
		return 0, err
	}
	n := 0
	for _, grp := range groupPending(ps, d) {
		if !due(grp) {
			continue
		}
		sup, canSuppress := g.Store.(Suppressor)
		if canSuppress && grp.Kind == mail.KindDigest {
			if grp.suppressed, err = sup.Suppressions(ctx, grp.Recipient); err != nil {
				return n, err
			}
		}
		d, err := g.Renderer.draft(ctx, grp, now)
		if err != nil {
			return n, err
		}
		added, err := g.Renderer.queue(ctx, now, d, func(ctx context.Context, now time.Time, m store.Message) (bool, error) {
			if rec, ok := g.Store.(IncidentRecorder); ok {
				return rec.EnqueueRecorded(ctx, now, m, grp.pending, grp.itemKeys, incidents(grp))
			}
			return g.Store.Enqueue(ctx, now, m, grp.pending, grp.itemKeys)
		}, g.Wake)
		if err != nil {
			return n, err
		}
		if canSuppress && added && len(grp.suppressed) > 0 {
			ids := make([]int64, len(grp.suppressed))
			for i, x := range grp.suppressed {
				ids[i] = x.ID
			}
			if err := sup.MarkSuppressionsReported(ctx, ids); err != nil {
				return n, err
			}
		}
		if added {
			n++
			g.Metrics.queued(grp.Kind)
			if g.Log != nil {
				g.Log.Info("mail queued", "kind", grp.Kind, "school", grp.SchoolID, "findings", len(grp.pending), "key", grp.key)
			}
		}
	}
	return n, nil
}

// groupPending groups rows: a digest per recipient, an immediate mail per
// recipient and school. It merges findings on the same item into one
// entry, most severe first, and gives each group a content key.
func groupPending(ps []store.Pending, d rules.Delivery) []*Group {
	kind, keyOf := mail.KindAlert, func(p store.Pending) string { return p.Recipient + "\x00" + p.SchoolID }
	if d == rules.Digest || d == rules.Weekly {
		kind, keyOf = mail.KindDigest, func(p store.Pending) string { return p.Recipient }
	}
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
		grp.critical = grp.critical || p.Severity == rules.Critical.Rank()
		a, err := decodeAlert(p.Payload)
		if err != nil {
			// A payload we cannot read still must not vanish silently:
			// carry what the row itself says.
			a = Alert{ItemKey: p.ItemKey, SchoolID: p.SchoolID, RuleID: p.RuleID, Title: "(unreadable finding)", Category: rules.OtherCategory, Severity: rules.High}
		}
		i := slices.IndexFunc(grp.Entries, func(e Entry) bool { return e.ItemKey == p.ItemKey })
		if i < 0 {
			grp.Entries = append(grp.Entries, Entry{Alert: a})
			grp.itemKeys = append(grp.itemKeys, p.ItemKey)
			i = len(grp.Entries) - 1
		}
		grp.Entries[i].Rules = append(grp.Entries[i].Rules, a)
	}
	out := make([]*Group, 0, len(order))
	for _, k := range order {
		grp := byKey[k]
		var ids []string
		for i := range grp.Entries {
			e := &grp.Entries[i]
			slices.SortStableFunc(e.Rules, func(a, b Alert) int { return cmp.Compare(a.Severity.Rank(), b.Severity.Rank()) })
			e.Alert = e.Rules[0]
			for _, r := range e.Rules {
				ids = append(ids, r.ItemKey+"/"+r.RuleID)
			}
		}
		slices.SortStableFunc(grp.Entries, func(a, b Entry) int {
			if c := cmp.Compare(a.Severity.Rank(), b.Severity.Rank()); c != 0 {
				return c
			}
			return b.Published.Compare(a.Published)
		})
		slices.Sort(ids)
		h := sha256.Sum256([]byte(string(kind) + "\x00" + grp.Recipient + "\x00" + strings.Join(ids, "\x00")))
		grp.key = contentKey(kind, h[:], 24)
		out = append(out, grp)
	}
	return out
}
