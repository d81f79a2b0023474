package watchers

import (
	"context"
	"fmt"
	"hash/fnv"
	"log/slog"
	"sync"
	"time"

	"github.com/robfig/cron/v3"
)

// Scheduler polls every feed on its cron schedule (in Location), with a
// deterministic per-feed jitter so that thousands of feeds sharing a
// schedule do not fire in the same second, and bounds on fetches in flight,
// globally and per host.
type Scheduler struct {
	Poller   *Poller
	Feeds    []Feed
	Location *time.Location
	// Concurrency bounds fetches in flight, and separately documents
	// being parsed and recorded (default DefaultConcurrency).
	Concurrency int
	// PerHost bounds fetches in flight to one site (default DefaultPerHost).
	PerHost int
	// RequestsPerMinute caps the requests a minute to a site (registrable
	// domain such as reddit.com); a site not listed is not capped.
	RequestsPerMinute map[string]float64
	// MaxJitter bounds the per-feed delay after each scheduled time; 0
	// (as polling.jitter: 0) disables it. A feed's jitter is also at most a
	// quarter of its schedule's interval, so a feed polled every minute
	// stays close to its minute.
	MaxJitter time.Duration
	// PollOnStart polls every feed (that is not backing off) as soon as Run
	// starts, instead of waiting for its first scheduled time.
	PollOnStart bool
	// OnPoll, if set, is called after every poll, and after every batch a
	// stream records or connection it fails to make.
	OnPoll func(Result)
	Log    *slog.Logger
	// Relevant, if set, is asked about the text of every post a stream
	// feed (type jetstream) reads: a firehose carries every public post,
	// and only those it accepts (those naming a school) reach the Sink.
	Relevant func(text string) bool
	// Stream, if set, adjusts each stream before it starts (tests tune
	// its batching and retries).
	Stream func(*Stream)
	// Claim, if set, is asked before each scheduled poll of a polled feed
	// whether this process is to poll it (replicas sharing a store claim
	// feeds: one poll per feed per scheduled time). gap is half the feed's
	// interval. release is called when the poll is recorded.
	Claim func(ctx context.Context, feedID string, gap time.Duration) (release func(), ok bool)

	limOnce sync.Once
	lim     *limiter
}

func (s *Scheduler) limiter() *limiter {
	s.limOnce.Do(func() { s.lim = newLimiter(s.Concurrency, s.PerHost, s.RequestsPerMinute) })
	return s.lim
}

// Run polls until ctx is done, then waits for polls in flight.
func (s *Scheduler) Run(ctx context.Context) error {
	loc := s.Location
	if loc == nil {
		loc = time.Local
	}
	c := cron.New(cron.WithLocation(loc))
	var wg sync.WaitGroup
	var mu sync.Mutex
	running := map[string]bool{}
	var jobs []func(delay time.Duration)
	var streams []*Stream
	for _, f := range s.Feeds {
		if f.Streamed() {
			// A stream is followed for as long as Run runs, not polled.
			if st, err := s.Poller.State(ctx, f.ID); err == nil {
				s.Poller.Metrics.Register(f, st)
			}
			streams = append(streams, s.stream(f))
			continue
		}
		sched := f.Schedule
		if sched == nil {
			return fmt.Errorf("feed %s: no schedule", f.ID)
		}
		if st, err := s.Poller.State(ctx, f.ID); err == nil {
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
				if delay > 0 {
					t := time.NewTimer(delay)
					defer t.Stop()
					select {
					case <-t.C:
					case <-ctx.Done():
						return
					}
				}
				s.pollIfDue(ctx, f)
			}()
		}
		jitter := s.Jitter(f.ID, interval(sched, time.Now().In(loc)))
		c.Schedule(sched, cron.FuncJob(func() { job(jitter) }))
		jobs = append(jobs, job)
	}
	c.Start()
	wg.Add(1)
	go func() {
		defer wg.Done()
		s.flushLoop(ctx)
	}()
	for _, st := range streams {
		wg.Add(1)
		go func() {
			defer wg.Done()
			st.Run(ctx)
		}()
	}
	if s.PollOnStart {
		// The first round ramps up: Concurrency polls start each second,
		// so 600 feeds do not open 600 requests in the first moment, and
		// a handful start at once.
		per := s.Concurrency
		if per <= 0 {
			per = DefaultConcurrency
		}
		for i, job := range jobs {
			job(time.Duration(i/per) * time.Second)
		}
	}
	<-ctx.Done()
	<-c.Stop().Done()
	wg.Wait()
	s.flush(ctx)
	return nil
}

// stream is the Stream that follows feed f.
func (s *Scheduler) stream(f Feed) *Stream {
	st := &Stream{Feed: f, Poller: s.Poller, Relevant: s.Relevant, OnBatch: s.OnPoll}
	if s.Poller.Fetcher != nil {
		st.UserAgent = s.Poller.Fetcher.UserAgent
	}
	if s.Stream != nil {
		s.Stream(st)
	}
	return st
}

// FlushInterval bounds how long a routine feed state waits to be written.
const FlushInterval = 10 * time.Second

func (s *Scheduler) flushLoop(ctx context.Context) {
	t := time.NewTicker(FlushInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			s.flush(ctx)
		}
	}
}

// flush writes deferred feed states, also while stopping (ctx done).
func (s *Scheduler) flush(ctx context.Context) {
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	if err := s.Poller.Flush(fctx); err != nil {
		s.log().Error("save feed states", "err", err)
	}
}

func (s *Scheduler) log() *slog.Logger {
	if s.Log != nil {
		return s.Log
	}
	return s.Poller.log()
}

// PollAll polls every feed once, now, within the concurrency bounds,
// ignoring backoff. It is the once command's cycle. A stream feed is not
// polled: its Result says so (Stream).
func (s *Scheduler) PollAll(ctx context.Context) []Result {
	results := make([]Result, len(s.Feeds))
	var wg sync.WaitGroup
	// A bounded set of workers rather than a goroutine per feed: 10,000
	// feeds need not mean 10,000 goroutines.
	work := make(chan int)
	workers := max(s.Concurrency, DefaultConcurrency) * 4
	for range min(workers, len(s.Feeds)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				f := s.Feeds[i]
				if f.Streamed() {
					results[i] = Result{Feed: f, Stream: true}
					continue
				}
				r, ok := s.poll(ctx, f)
				if !ok {
					r = Result{Feed: f, Err: &FetchError{Class: ClassTimeout, Err: ctx.Err()}}
				}
				results[i] = r
			}
		}()
	}
	for i := range s.Feeds {
		work <- i
	}
	close(work)
	wg.Wait()
	s.flush(ctx)
	return results
}

// poll polls f once a slot is free; ok is false if ctx ended first.
func (s *Scheduler) poll(ctx context.Context, f Feed) (r Result, ok bool) {
	release, err := s.limiter().acquire(ctx, f.URL)
	if err != nil {
		return Result{}, false
	}
	// The fetch's slots go as soon as the document is in: the bounds are
	// about connections to sites, and a poll waiting for its turn to
	// record its items (the store writes one batch at a time) must not
	// keep another site waiting. Parsing and recording take a processing
	// slot instead, which bounds the documents held in memory.
	var once sync.Once
	processing := false
	defer func() {
		once.Do(release)
		if processing {
			<-s.limiter().process
		}
	}()
	r = s.Poller.poll(ctx, f, func() {
		once.Do(release)
		s.limiter().process <- struct{}{} // held briefly by each: no ctx needed
		processing = true
	})
	if s.OnPoll != nil {
		s.OnPoll(r)
	}
	return r, true
}

func (s *Scheduler) pollIfDue(ctx context.Context, f Feed) {
	st, err := s.Poller.State(ctx, f.ID)
	if err == nil && !st.NextPoll.IsZero() && s.Poller.now().Before(st.NextPoll) {
		return // backing off after failures, or the server asked us to wait
	}
	if s.Claim != nil && f.Schedule != nil {
		release, ok := s.Claim(ctx, f.ID, interval(f.Schedule, s.Poller.now())/2)
		if !ok {
			return // another replica polls it
		}
		defer release()
	}
	s.poll(ctx, f)
}

// Jitter is a feed's stable delay after each scheduled time: a hash of its
// id, in [0, min(MaxJitter, interval/4)). The same feed always gets the
// same delay, so its polls stay evenly spaced; different feeds spread out.
func (s *Scheduler) Jitter(id string, interval time.Duration) time.Duration {
	bound := s.MaxJitter
	if interval > 0 {
		bound = min(bound, interval/4)
	}
	if bound <= 0 {
		return 0
	}
	h := fnv.New64a()
	h.Write([]byte(id))
	return time.Duration(h.Sum64() % uint64(bound))
}

// interval is the gap between a schedule's next two runs after now.
func interval(s cron.Schedule, now time.Time) time.Duration {
	a := s.Next(now)
	if a.IsZero() {
		return 0
	}
	return s.Next(a).Sub(a)
}
