package watchers

import (
	"context"
	"fmt"
	"hash/fnv"
	"log/slog"
	"sync"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/schoolwatch/schoolwatch/config"
)

// Scheduler polls every feed on its cron schedule, with a small
// deterministic per-feed jitter so that feeds sharing a schedule do not all
// fire in the same second, and a bound on polls in flight.
type Scheduler struct {
	Poller   *Poller
	Feeds    []Feed
	Location *time.Location
	// Concurrency bounds polls in flight (default 8).
	Concurrency int
	// MaxJitter bounds the per-feed delay (default 30s; 0 keeps the default,
	// negative disables).
	MaxJitter time.Duration
	// PollOnStart polls every feed (that is not backing off) as soon as Run
	// starts, instead of waiting for its first scheduled time.
	PollOnStart bool
	// OnPoll, if set, is called after every poll.
	OnPoll func(Result)
	Log    *slog.Logger
}

// Run polls until ctx is done, then waits for polls in flight.
func (s *Scheduler) Run(ctx context.Context) error {
	loc := s.Location
	if loc == nil {
		loc = time.Local
	}
	c := cron.New(cron.WithLocation(loc), cron.WithParser(config.CronParser))
	conc := s.Concurrency
	if conc <= 0 {
		conc = 8
	}
	sem := make(chan struct{}, conc)
	var wg sync.WaitGroup
	var mu sync.Mutex
	running := map[string]bool{}
	var jobs []func(delay time.Duration)
	for _, f := range s.Feeds {
		if st, _, err := s.Poller.Store.FeedState(ctx, f.ID); err == nil {
			s.Poller.Metrics.Register(f, st)
		}
		job := func(delay time.Duration) {
			mu.Lock()
			if running[f.ID] || ctx.Err() != nil {
				mu.Unlock()
				return // the previous poll of this feed is still going
			}
			running[f.ID] = true
			mu.Unlock()
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer func() { mu.Lock(); delete(running, f.ID); mu.Unlock() }()
				select {
				case <-time.After(delay):
				case <-ctx.Done():
					return
				}
				s.pollIfDue(ctx, f, sem)
			}()
		}
		if _, err := c.AddFunc(f.Schedule, func() { job(s.jitter(f.ID)) }); err != nil {
			return fmt.Errorf("feed %s: schedule %q: %w", f.ID, f.Schedule, err)
		}
		jobs = append(jobs, job)
	}
	c.Start()
	if s.PollOnStart {
		// At start there is no herd to spread: the concurrency bound
		// already paces the first round.
		for _, job := range jobs {
			job(0)
		}
	}
	<-ctx.Done()
	<-c.Stop().Done()
	wg.Wait()
	return nil
}

// PollAll polls every feed once, now, bounded by the concurrency limit,
// ignoring backoff. It is the once command's cycle.
func (s *Scheduler) PollAll(ctx context.Context) []Result {
	conc := s.Concurrency
	if conc <= 0 {
		conc = 8
	}
	sem := make(chan struct{}, conc)
	results := make([]Result, len(s.Feeds))
	var wg sync.WaitGroup
	for i, f := range s.Feeds {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			results[i] = s.Poller.Poll(ctx, f)
			if s.OnPoll != nil {
				s.OnPoll(results[i])
			}
		}()
	}
	wg.Wait()
	return results
}

func (s *Scheduler) pollIfDue(ctx context.Context, f Feed, sem chan struct{}) {
	st, _, err := s.Poller.Store.FeedState(ctx, f.ID)
	if err == nil && !st.NextPoll.IsZero() && s.Poller.now().Before(st.NextPoll) {
		return // backing off after failures, or the server asked us to wait
	}
	select {
	case sem <- struct{}{}:
	case <-ctx.Done():
		return
	}
	defer func() { <-sem }()
	r := s.Poller.Poll(ctx, f)
	if s.OnPoll != nil {
		s.OnPoll(r)
	}
}

// jitter is a stable per-feed delay in [0, MaxJitter).
func (s *Scheduler) jitter(id string) time.Duration {
	max := s.MaxJitter
	if max == 0 {
		max = 30 * time.Second
	}
	if max < 0 {
		return 0
	}
	h := fnv.New64a()
	h.Write([]byte(id))
	return time.Duration(h.Sum64() % uint64(max))
}
