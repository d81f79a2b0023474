package watchers

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/schoolwatch/schoolwatch/store"
)

// Sink receives the items of one poll that may be new: every item, less
// those in the document the feed's previous successful poll handed over
// (already recorded). It decides, through the store, which are new, and
// records them (and whatever they lead to) durably before returning; an
// error makes the poll fail, so the feed's validators are not advanced and
// the items come back next time.
type Sink interface {
	Items(ctx context.Context, feed Feed, items []Item, now time.Time) (Counts, error)
}

// Counts is what a sink made of a poll's items.
type Counts struct {
	New    int // not seen before, in this feed or another
	TooOld int // of the new ones, older than max_item_age: recorded, never alerted
	Edited int // seen before with other text: matched again
}

// Result summarises one poll.
type Result struct {
	Feed        Feed
	NotModified bool
	Items       int // items in the document
	New         int // of those, not seen before
	TooOld      int // new but older than max_item_age
	Edited      int // seen before, with other text now
	// Truncated reports that the document held more than the feed's
	// max_items entries (Entries of them) and only the first were read.
	Truncated bool
	Entries   int
	// Stream marks a stream feed (type jetstream) that PollAll passed
	// over: only the daemon follows streams.
	Stream   bool
	Err      error
	Duration time.Duration
}

// Poller polls one feed at a time; it is safe for concurrent use on
// different feeds.
type Poller struct {
	Store   *store.Store
	Fetcher *Fetcher
	Sink    Sink
	Log     *slog.Logger
	Metrics *Metrics
	Now     func() time.Time
	// MaxBackoff caps the delay after consecutive failures, and a stored
	// next poll time (a wall-clock instant that a clock stepped back would
	// otherwise put far in the future).
	MaxBackoff time.Duration
	// DryRun polls without reading or writing feed state (no conditional
	// GET, nothing recorded): the once command without --send.
	DryRun bool

	states states
	recent recent
}

// State returns a feed's polling state as this Poller knows it (it may be
// newer than the store's until Flush).
//
// A next poll time read from the store is at most MaxBackoff away: it was
// written by the wall clock, and if that clock has since been stepped back
// it would otherwise hold the feed back by the size of the step. Times this
// Poller set itself carry the monotonic clock, so they are immune.
func (p *Poller) State(ctx context.Context, feedID string) (store.FeedState, error) {
	return p.states.get(ctx, p.Store, feedID, func() time.Time { return p.now().Add(p.maxBackoff()) })
}

// Flush writes the feed states whose writing was deferred (see states).
// The Scheduler calls it periodically, after PollAll, and when Run stops.
func (p *Poller) Flush(ctx context.Context) error {
	if p.DryRun || p.Store == nil {
		return nil
	}
	return p.states.flush(ctx, p.Store)
}

func (p *Poller) now() time.Time {
	if p.Now != nil {
		return p.Now()
	}
	return time.Now()
}

// Poll fetches, parses and normalises one feed and hands its items to the
// sink, then records the feed's state. Errors are returned classified and
// also recorded in the state; they never stop other feeds.
func (p *Poller) Poll(ctx context.Context, f Feed) Result {
	return p.poll(ctx, f, func() {})
}

// poll is Poll, calling fetched once the fetch is over (whatever its
// outcome), before the document is parsed and its items recorded.
func (p *Poller) poll(ctx context.Context, f Feed, fetched func()) Result {
	start := p.now()
	res := Result{Feed: f}
	var st store.FeedState
	if !p.DryRun {
		var err error
		if st, err = p.State(ctx, f.ID); err != nil {
			res.Err = &FetchError{Class: ClassStore, Err: err}
			return p.finish(ctx, res, st, st, start)
		}
	}
	prev := st
	fctx, cancel := context.WithTimeout(ctx, f.Timeout)
	defer cancel()
	resp, err := p.Fetcher.Fetch(fctx, f.URL, st.ETag, st.LastModified)
	fetched()
	if err != nil {
		res.Err = err
		return p.finish(ctx, res, prev, st, start)
	}
	if resp.NotModified {
		res.NotModified = true
		return p.finish(ctx, res, prev, st, start)
	}
	// A body identical to the last one processed holds nothing new,
	// whatever its validators say (some servers send a constant ETag with
	// changing content, others a new ETag with every response).
	sum := bodyHash(resp.Body, f.maxItems())
	if !p.DryRun && sum == st.BodyHash {
		res.NotModified = true
		st.ETag, st.LastModified = resp.ETag, resp.LastModified
		return p.finish(ctx, res, prev, st, start)
	}
	parsed, rep, err := parse(resp, f.maxItems())
	resp.Body = nil // the items are parsed: the document can go
	if err != nil {
		res.Err = err
		return p.finish(ctx, res, prev, st, start)
	}
	p.report(f, rep)
	res.Truncated, res.Entries = rep.Truncated, rep.Entries
	var last map[uint64]struct{}
	if !p.DryRun {
		last = p.recent.seen(f.ID)
	}
	fps := make(map[uint64]struct{}, len(parsed.Items))
	items := make([]Item, 0, len(parsed.Items))
	for _, e := range parsed.Items {
		if e == nil {
			continue
		}
		res.Items++
		fp := p.recent.fingerprint(e)
		fps[fp] = struct{}{}
		if _, ok := last[fp]; ok {
			continue // recorded by the last poll: a duplicate
		}
		it := normalise(f, e, start)
		it.TooOld = it.Dated && f.MaxItemAge > 0 && start.Sub(it.Published) > f.MaxItemAge
		it.ResponseDate, it.ResponseETag = resp.Date, resp.ETag
		items = append(items, it)
	}
	if len(items) > 0 || p.DryRun {
		counts, err := p.Sink.Items(ctx, f, items, start)
		if err != nil {
			res.Err = &FetchError{Class: ClassStore, Err: err}
			return p.finish(ctx, res, prev, st, start)
		}
		res.New, res.TooOld, res.Edited = counts.New, counts.TooOld, counts.Edited
	}
	if !p.DryRun {
		p.recent.remember(f.ID, fps)
	}
	st.ETag, st.LastModified, st.BodyHash = resp.ETag, resp.LastModified, sum
	return p.finish(ctx, res, prev, st, start)
}

// NoteTruncated is the class a successful poll leaves in the feed state's
// error fields when the document held more entries than max_items: the
// feed works, but not all of it was read.
const NoteTruncated = "truncated"

// report logs and counts what parsing had to do to a document: once per
// poll, at warn, with the feed's id and never its text.
func (p *Poller) report(f Feed, rep docReport) {
	if len(rep.Repairs) > 0 {
		p.log().Warn("feed document repaired", "feed", f.ID, "repairs", rep.repairs())
		p.Metrics.repaired(f.ID, rep.Repairs)
	}
	if rep.Truncated {
		p.log().Warn("feed document truncated", "feed", f.ID, "entries", rep.Entries, "max_items", f.maxItems())
		p.Metrics.truncated(f.ID)
	}
}

// bodyHash fingerprints a document as it was processed: its bytes and the
// cap its entries were read under.
func bodyHash(body []byte, maxItems int) string {
	h := sha256.New()
	fmt.Fprintf(h, "%d\x00", maxItems)
	h.Write(body)
	var sum [sha256.Size]byte
	return hex.EncodeToString(h.Sum(sum[:0])[:16])
}

func (p *Poller) finish(ctx context.Context, res Result, prev, st store.FeedState, start time.Time) Result {
	res.Err = RedactError(res.Err) // feed URLs may carry keys: keep them out of logs and the store
	now := p.now()
	res.Duration = now.Sub(start)
	st.FeedID = res.Feed.ID
	st.LastPoll = now
	if res.Err == nil {
		st.LastSuccess = now
		switch {
		case res.Truncated:
			st.LastError = fmt.Sprintf("the document has %d entries; only the first %d were read (max_items)", res.Entries, res.Feed.maxItems())
			st.ErrorClass = NoteTruncated
		case res.NotModified && prev.Failures == 0 && prev.ErrorClass == NoteTruncated:
			// The same document as last time: still truncated.
		default:
			st.LastError, st.ErrorClass = "", ""
		}
		st.Failures = 0
		st.FailingSince = time.Time{}
		st.NextPoll = time.Time{}
		if res.New > 0 {
			st.LastNewItem = now
			st.ItemsSeen += int64(res.New)
		}
		if st.LastNewItem.IsZero() {
			st.LastNewItem = now
		}
	} else {
		if st.Failures == 0 {
			st.FailingSince = now
		}
		st.Failures++
		st.LastError = truncate(res.Err.Error(), 500)
		st.ErrorClass = ErrorClass(res.Err)
		st.NextPoll = now.Add(p.backoff(st.Failures, res.Err))
		p.log().Warn("poll failed", "feed", res.Feed.ID, "class", st.ErrorClass, "failures", st.Failures, "err", res.Err)
	}
	if p.DryRun {
		return res
	}
	// A success after a success may wait to be written (see states).
	routine := res.Err == nil && prev.Failures == 0 && !prev.LastSuccess.IsZero()
	if err := p.states.put(ctx, p.Store, st, routine); err != nil && ctx.Err() == nil {
		p.log().Error("save feed state", "feed", res.Feed.ID, "err", err)
	}
	p.Metrics.observe(res, st)
	return res
}

func (p *Poller) log() *slog.Logger {
	if p.Log != nil {
		return p.Log
	}
	return slog.Default()
}

// backoff is how long to leave a failing feed alone: what the server asked
// for, or exponential from one minute, capped.
func (p *Poller) backoff(failures int, err error) time.Duration {
	max := p.maxBackoff()
	if fe := (*FetchError)(nil); errors.As(err, &fe) && fe.RetryAfter > 0 {
		return min(fe.RetryAfter, max)
	}
	d := time.Minute
	for i := 1; i < failures && d < max; i++ {
		d *= 2
	}
	return min(d, max)
}

func (p *Poller) maxBackoff() time.Duration {
	if p.MaxBackoff <= 0 {
		return 6 * time.Hour
	}
	return p.MaxBackoff
}

// String describes a result for logs and the once command.
func (r Result) String() string {
	switch {
	case r.Err != nil:
		return fmt.Sprintf("%s: error: %v", r.Feed.ID, r.Err)
	case r.NotModified:
		return fmt.Sprintf("%s: not modified", r.Feed.ID)
	case r.Stream:
		return fmt.Sprintf("%s: a stream (type jetstream): followed by `schoolwatch run`, not polled", r.Feed.ID)
	}
	return fmt.Sprintf("%s: %d items, %d new", r.Feed.ID, r.Items, r.New)
}
