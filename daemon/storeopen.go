package daemon

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/schoolwatch/schoolwatch/config"
	"github.com/schoolwatch/schoolwatch/store"
)

// openStore opens the configured store: the SQLite file at store.path, or
// with store.driver postgres the database at store.dsn.
func openStore(ctx context.Context, cfg *config.Config) (*store.Store, error) {
	if cfg.Store.Postgres() {
		return store.OpenPostgres(ctx, cfg.Store.DSN)
	}
	return store.Open(ctx, cfg.Resolve(cfg.Store.Path))
}

// lockStore takes the SQLite store's file lock (one daemon per store). A
// Postgres store takes none: replicas share it on purpose, and coordinate
// through the database. The returned release is never nil.
func lockStore(cfg *config.Config) (release func(), err error) {
	if cfg.Store.Postgres() {
		return func() {}, nil
	}
	lock, err := store.Lock(cfg.Resolve(cfg.Store.Path))
	if err != nil {
		return nil, err
	}
	return func() { lock.Release() }, nil
}

// storeMoved reports whether a reloaded config names another store than
// the open one (at path, "" for Postgres).
func storeMoved(old, cfg *config.Config, path string) bool {
	if cfg.Store.Postgres() || old.Store.Postgres() {
		return cfg.Store.Driver != old.Store.Driver || cfg.Store.DSN != old.Store.DSN
	}
	return cfg.Resolve(cfg.Store.Path) != path
}

// leads reports whether this process runs the jobs that must run once per
// store: digests, heartbeats, feed-health notices and purges. Always on
// SQLite; on Postgres, while this replica holds the leader lock (taken by
// the first replica to ask, handed over when its holder dies).
func (g *generation) leads(ctx context.Context) bool {
	ok, err := g.svc.store.Leader(ctx)
	if err != nil {
		if ctx.Err() == nil {
			g.svc.log.Warn("leader lock", "err", err)
		}
		return false
	}
	if g.svc.leader != nil {
		g.svc.leader.Set(map[bool]float64{true: 1}[ok])
	}
	if g.svc.leading.Swap(ok) != ok && g.svc.store.Driver() == store.DriverPostgres {
		if ok {
			g.svc.log.Info("this replica now runs the cluster's jobs (digests, heartbeats, notices, purges)", "replica", g.svc.store.Replica())
		} else {
			g.svc.log.Info("another replica runs the cluster's jobs", "replica", g.svc.store.Replica())
		}
	}
	return ok
}

// claimFeed claims a feed for a poll by this replica (Postgres only).
func (g *generation) claimFeed(ctx context.Context, id string, gap time.Duration) (func(), bool) {
	release, ok, err := g.svc.store.ClaimFeed(ctx, id, time.Now(), gap)
	if err != nil {
		if ctx.Err() == nil {
			g.svc.log.Warn("feed claim", "feed", id, "err", err)
		}
		return nil, false
	}
	return release, ok
}

// leaderMetric registers schoolwatch_store_leader{replica}: 1 while this
// replica runs the cluster's jobs on a Postgres store, else 0.
func leaderMetric(reg prometheus.Registerer, replica string) prometheus.Gauge {
	g := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "schoolwatch_store_leader",
		Help: "1 while this replica holds the Postgres store's leader lock and runs digests, heartbeats, feed-health notices and purges; 0 otherwise. The label names the replica.",
	}, []string{"replica"})
	reg.MustRegister(g)
	return g.WithLabelValues(replica)
}

// leaderEvery is how often a replica asks for the leader lock (and checks
// it still holds it): a dead leader's jobs are taken over within it.
const leaderEvery = 5 * time.Second

// leaderLoop asks for the leader lock every leaderEvery until ctx is done,
// so the lock is handed over promptly when its holder dies, whatever the
// jobs' own schedules.
func (g *generation) leaderLoop(ctx context.Context) error {
	every(ctx, leaderEvery, nil, func() { g.leads(ctx) })
	return nil
}

// ReplicaStatus is what a Postgres store says about its replicas: which
// one runs the cluster's jobs (since when), and which replica polled each
// feed last.
type ReplicaStatus struct {
	Leader      string
	LeaderSince time.Time
	Feeds       []store.FeedClaim
}

// Replicas reads the replicas' status from a Postgres store; ok is false
// for SQLite (one process, nothing to say).
func Replicas(ctx context.Context, p *Plan) (rs ReplicaStatus, ok bool, err error) {
	if !p.Config.Store.Postgres() {
		return rs, false, nil
	}
	st, err := openStore(ctx, p.Config)
	if err != nil {
		return rs, false, err
	}
	defer st.Close()
	if rs.Leader, rs.LeaderSince, err = st.LeaderReplica(ctx); err != nil {
		return rs, false, err
	}
	if rs.Feeds, err = st.FeedClaims(ctx); err != nil {
		return rs, false, err
	}
	return rs, true, nil
}
