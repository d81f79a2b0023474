package alerts

import (
	"context"
	"testing"
	"time"

	"github.com/schoolwatch/schoolwatch/rules"
	"github.com/schoolwatch/schoolwatch/store"
)

// TestMessageIDStable: rendering the same group twice gives the same
// Message-ID, so a resend after a crash is recognisable.
func TestMessageIDStable(t *testing.T) {
	now := time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)
	mk := func() string {
		ps := []store.Pending{pendingFor(t, "dsl@x.org", "1", hostileAlert())}
		ps[0].ID, ps[0].Created = 7, now
		grp := groupPending(ps, rules.Immediate)[0]
		m, err := testRenderer().Render(grp, now)
		if err != nil {
			t.Fatal(err)
		}
		return m.Key
	}
	if a, b := mk(), mk(); a != b || a == "" {
		t.Errorf("keys differ: %q, %q", a, b)
	}
}

// TestDigest: an empty digest sends nothing; a digest holds every pending
// digest finding for the leader, across schools, and nothing immediate.
func TestDigest(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	now := time.Date(2026, 11, 25, 7, 0, 0, 0, time.UTC)
	g := &Grouper{Store: st, Renderer: testRenderer(), GroupWait: time.Minute}
	if n, err := g.Digest(ctx, now); err != nil || n != 0 {
		t.Fatalf("empty digest queued %d mails (%v)", n, err)
	}
	a := hostileAlert()
	b := hostileAlert()
	b.ItemKey, b.SchoolID, b.SchoolName = "item-9", "2", "Oak Academy"
	digest := func(p store.Pending) store.Pending { p.Delivery = "digest"; return p }
	addPending(t, st, now,
		digest(pendingFor(t, "head@x.org", "1", a)),
		digest(pendingFor(t, "head@x.org", "2", b)),
		digest(pendingFor(t, "dsl@x.org", "2", b)),
		pendingFor(t, "head@x.org", "1", func() Alert { f := a; f.ItemKey = "item-imm"; return f }()),
	)
	if n, err := g.Digest(ctx, now); err != nil || n != 2 {
		t.Fatalf("digest queued %d mails (%v), want one per leader", n, err)
	}
	ms, _ := st.Messages(ctx, "", 10)
	for _, m := range ms {
		if m.Kind != "digest" {
			t.Errorf("digest run queued a %s mail", m.Kind)
		}
		if m.Recipient == "head@x.org" && m.Subject != "[schoolwatch] Daily digest: 2 items" {
			t.Errorf("head's digest subject = %q", m.Subject)
		}
	}
	if n, _ := g.Digest(ctx, now); n != 0 {
		t.Errorf("a second digest run queued %d mails", n)
	}
	if ps, _ := st.ListPending(ctx, "immediate"); len(ps) != 1 {
		t.Errorf("the digest consumed immediate findings: %d left, want 1", len(ps))
	}
}
