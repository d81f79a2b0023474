package daemon

import (
	"context"
	"log/slog"
	"time"

	"github.com/schoolwatch/schoolwatch/alerts"
	"github.com/schoolwatch/schoolwatch/rules"
	"github.com/schoolwatch/schoolwatch/watchers"
)

// OnceOptions says how Once runs.
type OnceOptions struct {
	// Send records new items and mails their findings; without it nothing
	// is recorded or sent, and every item counts as new.
	Send   bool
	Logger *slog.Logger
	// OnFinding, if set, sees every finding on an item that may alert,
	// one call at a time.
	OnFinding func(watchers.Item, rules.Finding)
}

// OnceResult is what one pass over every feed did.
type OnceResult struct {
	Polls     []watchers.Result
	Queued    int // mails queued (Send only)
	Delivered int // mails delivered by the final drain (Send only)
	Waiting   int // mails still in the outbox (Send only)
}

// Once polls every feed of p once. With Send it records, groups and mails
// like the daemon, flushing every group at once, and drains the outbox;
// its metrics go to a private registry.
func Once(ctx context.Context, p *Plan, opts OnceOptions) (OnceResult, error) {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	var res OnceResult
	if !opts.Send {
		in := &intake{detect: p.detect, router: alerts.NewRouter(p.Routes, log), onFinding: opts.OnFinding}
		sch := &watchers.Scheduler{
			Poller: &watchers.Poller{Fetcher: watchers.NewFetcher(p.Config.Defaults.UserAgent), Sink: in, Log: log, DryRun: true},
			Feeds:  p.Feeds, Concurrency: p.Config.Polling.Concurrency, PerHost: p.Config.Polling.PerHost, RequestsPerMinute: p.Config.Polling.RequestsPerMinute,
		}
		res.Polls = sch.PollAll(ctx)
		return res, nil
	}
	// Sending takes the store's lock, as Run does: a daemon on the same
	// store would otherwise send the same mail too.
	release, err := lockStore(p.Config)
	if err != nil {
		return res, err
	}
	defer release()
	svc, g, err := oneShot(ctx, p, log)
	if err != nil {
		return res, err
	}
	defer svc.store.Close()
	g.intake.onFinding = opts.OnFinding
	res.Polls = g.scheduler.PollAll(ctx)
	if res.Queued, err = g.grouper.Flush(ctx, time.Now(), true); err != nil {
		return res, err
	}
	if res.Delivered, err = g.sender.Drain(ctx); err != nil {
		return res, err
	}
	res.Waiting, _, _ = svc.store.OutboxStats(ctx)
	return res, nil
}

// oneShot opens the store and builds a generation for a command that runs
// once (once --send, report): the daemon's pieces with a private registry.
// The caller closes svc.store.
func oneShot(ctx context.Context, p *Plan, log *slog.Logger) (*service, *generation, error) {
	svc, err := newService(ctx, p.Config, log, Options{})
	if err != nil {
		return nil, nil, err
	}
	g, err := svc.build(p)
	if err != nil {
		svc.store.Close()
		return nil, nil, err
	}
	return svc, g, nil
}
