package daemon

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/robfig/cron/v3"

	"github.com/schoolwatch/schoolwatch/alerts"
	"github.com/schoolwatch/schoolwatch/config"
	"github.com/schoolwatch/schoolwatch/mail"
	"github.com/schoolwatch/schoolwatch/store"
	"github.com/schoolwatch/schoolwatch/watchers"
)

// service is the long-lived part of the daemon: the store and the metrics
// registry outlive config reloads.
type service struct {
	log      *slog.Logger
	version  string
	gatherer prometheus.Gatherer
	store    *store.Store
	wm       *watchers.Metrics
	am       *alerts.Metrics
	mm       *mail.Metrics
	dm       *daemonMetrics
	// feeds are the ids of the feeds the last generation built polls; a
	// reload forgets the metric series of those it drops.
	feeds map[string]bool
	// unrecorded outlives reloads: each generation's sender shares it.
	unrecorded *mail.Unrecorded
	// leading: this replica held the leader lock at the last ask;
	// leader exports it (Postgres only, nil on SQLite).
	leading atomic.Bool
	leader  prometheus.Gauge
}

func newService(ctx context.Context, cfg *config.Config, log *slog.Logger, opts Options) (*service, error) {
	st, err := openStore(ctx, cfg)
	if err != nil {
		return nil, err
	}
	var reg prometheus.Registerer = opts.Registerer
	gath := opts.Gatherer
	if reg == nil || gath == nil {
		r := prometheus.NewRegistry()
		r.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
		reg, gath = r, r
	}
	version := opts.Version
	if version == "" {
		version = "devel"
	}
	dm := newDaemonMetrics(reg, version)
	var leader prometheus.Gauge
	if cfg.Store.Postgres() {
		leader = leaderMetric(reg, st.Replica())
	}
	return &service{
		log: log, version: version, gatherer: gath, store: st, dm: dm, leader: leader,
		wm: watchers.NewMetrics(reg), am: alerts.NewMetrics(reg), mm: mail.NewMetrics(reg),
		unrecorded: mail.NewUnrecorded(),
	}, nil
}

// generation is everything built from one config; a reload replaces it.
type generation struct {
	plan      *Plan
	svc       *service
	scheduler *watchers.Scheduler
	grouper   *alerts.Grouper
	intake    *intake
	sender    *mail.Sender
	flushNow  chan struct{}
	// links signs and checks action links; nil without http.public_url.
	links   *linker
	started chan struct{} // closed once run has started every loop
	running atomic.Bool
	// storeErr is the last failure to record a poll in the store (disk
	// full, read-only); nil once a poll is recorded again. Readiness
	// reports it: a daemon that cannot record items is not doing its job.
	storeErr atomic.Pointer[error]
}

// build makes the generation for p. The previous generation, if any, has
// stopped: the series of feeds it polled and p lacks are deleted here.
func (svc *service) build(p *Plan) (*generation, error) {
	cfg := p.Config
	d, _, err := Deliverer(cfg)
	if err != nil {
		return nil, err
	}
	svc.retireFeeds(p.Feeds)
	g := &generation{plan: p, svc: svc, flushNow: make(chan struct{}, 1), started: make(chan struct{})}
	g.sender = mail.NewSender(svc.store, d, cfg.Mail.Retry.Initial.Duration, cfg.Mail.Retry.Max.Duration, svc.log, svc.mm)
	g.sender.Unrecorded = svc.unrecorded
	renderer := &alerts.Renderer{Letterhead: letterhead(cfg), Pack: p.Pack, Records: svc.store, Retention: cfg.Store.Retention.Duration}
	if cfg.HTTP.PublicURL != "" {
		key, err := linkKey(context.Background(), cfg, svc.store)
		if err != nil {
			return nil, err
		}
		g.links = &linker{key: key, base: strings.TrimRight(cfg.HTTP.PublicURL, "/"), muteFor: cfg.Mail.MuteFor.Duration}
		renderer.ActionLinks = g.links.links
	}
	g.grouper = &alerts.Grouper{
		Store:     svc.store,
		Renderer:  renderer,
		GroupWait: cfg.Mail.GroupWait.Duration,
		Log:       svc.log,
		Metrics:   svc.am,
		Wake:      g.sender.Wake,
	}
	svc.am.Prepare(p.Routes)
	in := &intake{
		store:   svc.store,
		detect:  p.detect,
		router:  alerts.NewRouter(p.Routes, svc.log),
		metrics: svc.am,
		critical: func() {
			select {
			case g.flushNow <- struct{}{}:
			default:
			}
		},
	}
	g.intake = in
	g.scheduler = &watchers.Scheduler{
		Poller: &watchers.Poller{
			Store: svc.store, Fetcher: watchers.NewFetcher(cfg.Defaults.UserAgent), Sink: in, Log: svc.log, Metrics: svc.wm,
			MaxBackoff: cfg.Polling.MaxBackoff.Duration,
		},
		Feeds:             p.Feeds,
		Location:          cfg.Location,
		Concurrency:       cfg.Polling.Concurrency,
		PerHost:           cfg.Polling.PerHost,
		RequestsPerMinute: cfg.Polling.RequestsPerMinute,
		MaxJitter:         cfg.Polling.Jitter.Duration,
		PollOnStart:       true,
		Log:               svc.log,
		OnPoll:            g.notePoll,
		// Stream feeds (type jetstream) run beside the polls: of the
		// posts they carry, only those naming a school are recorded.
		Relevant: in.relevant,
	}
	if cfg.Store.Postgres() {
		g.scheduler.Claim = g.claimFeed
	}
	return g, nil
}

// retireFeeds forgets the metric series of every feed built before and
// not in feeds, and remembers feeds for the next reload.
func (svc *service) retireFeeds(feeds []watchers.Feed) {
	keep := make(map[string]bool, len(feeds))
	for _, f := range feeds {
		keep[f.ID] = true
	}
	for id := range svc.feeds {
		if !keep[id] {
			svc.wm.Forget(id)
		}
	}
	svc.feeds = keep
}

// Deliverer returns the configured mail delivery: SMTP when mail.smtp is
// set, else .eml files in mail.dir; where says which, for people.
func Deliverer(cfg *config.Config) (d mail.Deliverer, where string, err error) {
	if s := cfg.Mail.SMTP; s != nil {
		sd, err := mail.NewSMTPDeliverer(mail.SMTPOptions{
			Host: s.Host, Port: s.Port, Username: s.Username, Password: s.Password, TLS: s.TLS,
			Timeout: s.Timeout.Duration, InsecureSkipVerify: s.InsecureSkipVerify, From: cfg.Mail.From,
		})
		if err != nil {
			return nil, "", fmt.Errorf("mail.from: %w", err)
		}
		return sd, fmt.Sprintf("via %s:%d", s.Host, s.Port), nil
	}
	dir := cfg.Resolve(cfg.Mail.Dir)
	return mail.FileDeliverer{Dir: dir}, "as a file in " + dir, nil
}

// run runs the generation until ctx is done and everything it started has stopped.
func (g *generation) run(ctx context.Context) error {
	cfg := g.plan.Config
	var wg sync.WaitGroup
	errc := make(chan error, 1)
	spawn := func(name string, fn func(context.Context) error) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := fn(ctx); err != nil && ctx.Err() == nil {
				g.svc.log.Error(name+" stopped", "err", err)
				select {
				case errc <- fmt.Errorf("%s: %w", name, err):
				default:
				}
			}
		}()
	}
	spawn("scheduler", g.scheduler.Run)
	spawn("sender", g.sender.Run)
	spawn("grouper", g.groupLoop)
	spawn("health", g.healthLoop) // health.go: operator notices (issue 9)
	if cfg.Store.Postgres() {
		spawn("leader", g.leaderLoop) // storeopen.go: replicas hand the cluster's jobs over
	}

	c := cron.New(cron.WithLocation(cfg.Location))
	c.Schedule(g.plan.DigestSchedule, cron.FuncJob(func() {
		if !g.leads(ctx) {
			return
		}
		if n, err := g.grouper.Digest(ctx, time.Now()); err != nil {
			g.svc.log.Error("digest", "err", err)
		} else if n > 0 {
			g.svc.log.Info("digests queued", "mails", n)
		}
	}))
	if _, err := c.AddFunc("@every 1h", func() { g.purge(ctx) }); err != nil {
		return err
	}
	c.Start()
	g.purge(ctx)
	g.running.Store(true)
	close(g.started)
	var err error
	select {
	case <-ctx.Done():
	case err = <-errc:
	}
	g.running.Store(false)
	<-c.Stop().Done()
	wg.Wait()
	return err
}

// notePoll tracks whether polls can be recorded, for readiness.
func (g *generation) notePoll(r watchers.Result) {
	switch {
	case watchers.ErrorClass(r.Err) == watchers.ClassStore:
		err := r.Err
		g.storeErr.Store(&err)
	case r.Err == nil && !r.NotModified:
		g.storeErr.Store(nil)
	}
}

// ready reports why the generation is not ready, or nil.
func (g *generation) ready() error {
	if !g.running.Load() {
		return errors.New("scheduler not running")
	}
	if err := g.storeErr.Load(); err != nil {
		return fmt.Errorf("cannot record polls in the store: %v", *err)
	}
	return nil
}

// groupLoop queues the mail of every group that is due, each second and
// at once after a critical finding, until ctx is done.
func (g *generation) groupLoop(ctx context.Context) error {
	every(ctx, time.Second, g.flushNow, func() {
		if _, err := g.grouper.Flush(ctx, time.Now(), false); err != nil && !errors.Is(err, context.Canceled) {
			g.svc.log.Error("group findings", "err", err)
		}
	})
	return nil
}

// every calls fn each period, and each time nudge fires (a nil nudge
// never does), until ctx is done.
func every(ctx context.Context, period time.Duration, nudge <-chan struct{}, fn func()) {
	tick := time.NewTicker(period)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		case <-nudge:
		}
		fn()
	}
}

func (g *generation) purge(ctx context.Context) {
	if !g.leads(ctx) {
		return
	}
	before := time.Now().Add(-g.plan.Config.Store.Retention.Duration)
	n, err := g.svc.store.Purge(ctx, before)
	if err != nil {
		g.svc.log.Error("purge", "err", err)
		return
	}
	g.svc.dm.lastPurge.SetToCurrentTime()
	g.svc.dm.purged.Add(float64(n))
	if n > 0 {
		g.svc.log.Info("purged old records", "rows", n, "before", before.Format(time.RFC3339))
		// The purged text is zeroed in the database (secure_delete); the
		// write-ahead log still holds old copies until it is truncated.
		if err := g.svc.store.Checkpoint(ctx); err != nil {
			g.svc.log.Warn("purge: truncate the write-ahead log", "err", err)
		}
	}
}

// waitRunning returns once the generation's loops have started, or ctx is done.
func (g *generation) waitRunning(ctx context.Context) {
	select {
	case <-g.started:
	case <-ctx.Done():
	}
}
