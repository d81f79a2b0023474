package daemon

import (
	"context"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/schoolwatch/schoolwatch/alerts"
	"github.com/schoolwatch/schoolwatch/store"
)

// healthEvery is how often the daemon re-evaluates feed health. Failures
// are written to the store as they happen, so a minute bounds how late a
// notice can be.
const healthEvery = time.Minute

// healthLoop evaluates every configured feed's health from the store and
// sends grouped operator notices, and sends the leaders' heartbeat on
// mail.heartbeat_schedule, until ctx is done.
func (g *generation) healthLoop(ctx context.Context) error {
	cfg := g.plan.Config
	lh := letterhead(cfg)
	n := &alerts.Notifier{Letterhead: lh, Store: g.svc.store, To: cfg.Mail.Operator, Wake: g.sender.Wake, Metrics: g.svc.am}
	hb := &alerts.Heartbeat{
		Letterhead: lh, Store: g.svc.store, Schools: g.plan.Routes.Schools,
		Feeds: func(ctx context.Context, at time.Time) ([]alerts.FeedHealth, error) {
			return feedHealth(ctx, g.svc.store, g.plan, at)
		},
		Wake: g.sender.Wake, Metrics: g.svc.am,
	}
	sched := g.plan.HeartbeatSchedule
	// A heartbeat whose time passed while the daemon was down goes now.
	if !g.leads(ctx) {
		// Another replica runs the cluster's jobs.
	} else if k, err := hb.CatchUp(ctx, sched, time.Now().In(cfg.Location)); err != nil {
		g.svc.log.Error("heartbeat catch-up", "err", err)
	} else if k > 0 {
		g.svc.log.Info("missed heartbeats queued", "mails", k)
	}
	c := cron.New(cron.WithLocation(cfg.Location))
	c.Schedule(sched, cron.FuncJob(func() {
		// The period is one schedule interval ending at the scheduled
		// minute; the key is the scheduled minute, so it is sent once.
		if !g.leads(ctx) {
			return
		}
		to := time.Now().In(cfg.Location).Truncate(time.Minute)
		if k, err := hb.Queue(ctx, alerts.Period(sched, to), to); err != nil {
			g.svc.log.Error("heartbeat", "err", err)
		} else {
			g.svc.log.Info("heartbeats queued", "mails", k)
		}
		// The weekly digest (mentions for leaders who asked for them
		// weekly) goes out with the heartbeat.
		if k, err := g.grouper.WeeklyDigest(ctx, time.Now()); err != nil {
			g.svc.log.Error("weekly digest", "err", err)
		} else if k > 0 {
			g.svc.log.Info("weekly digests queued", "mails", k)
		}
	}))
	c.Start()
	defer func() { <-c.Stop().Done() }()
	every(ctx, healthEvery, nil, func() {
		if err := g.checkHealth(ctx, n); err != nil && ctx.Err() == nil {
			// A store hiccup must not stop the daemon; the next tick retries.
			g.svc.log.Warn("feed health", "err", err)
		}
	})
	return nil
}

func (g *generation) checkHealth(ctx context.Context, n *alerts.Notifier) error {
	if !g.leads(ctx) {
		return nil
	}
	fh, err := feedHealth(ctx, g.svc.store, g.plan, time.Now())
	if err != nil {
		return err
	}
	sent, err := n.Queue(ctx, fh)
	if sent {
		g.svc.log.Info("feed-health notice queued", "to", n.To)
	}
	return err
}

// feedHealth evaluates every feed of p from its stored state at now. It is
// the one place feed health is judged, for the operator notices, the
// heartbeat and the status command alike.
func feedHealth(ctx context.Context, st *store.Store, p *Plan, now time.Time) ([]alerts.FeedHealth, error) {
	feeds, policy := p.Feeds, healthPolicy(p)
	states, err := st.FeedStates(ctx)
	if err != nil {
		return nil, err
	}
	byID := make(map[string]int, len(states))
	for i, s := range states {
		byID[s.FeedID] = i
	}
	fh := make([]alerts.FeedHealth, 0, len(feeds))
	for _, f := range feeds {
		h := alerts.FeedHealth{Feed: f}
		if i, ok := byID[f.ID]; ok {
			h.State = states[i]
		} else {
			h.State.FeedID = f.ID
		}
		h.Health = policy.Evaluate(h.State, f, now)
		fh = append(fh, h)
	}
	return fh, nil
}
