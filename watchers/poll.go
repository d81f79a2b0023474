package watchers

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/mmcdole/gofeed"

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
}

// Result summarises one poll.
type Result struct {
	Feed        Feed
	NotModified bool
	Items       int // items in the document
	New         int // of those, not seen before
	TooOld      int // new but older than max_item_age
	Err         error
	Duration    time.Duration
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
	// Backoff caps the delay after consecutive failures.
	MaxBackoff time.Duration
	// DryRun polls without reading or writing feed state (no conditional
	// GET, nothing recorded): the once command without --send.
	DryRun bool

	states states
	recent recent
}

// State returns a feed's polling state as this Poller knows it (it may be
// newer than the store's until Flush).
func (p *Poller) State(ctx context.Context, feedID string) (store.FeedState, error) {
	return p.states.get(ctx, p.Store, feedID)
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
	parsed, err := parse(resp)
	if err != nil {
		res.Err = err
		return p.finish(ctx, res, prev, st, start)
	}
	var last map[uint64]struct{}
	if !p.DryRun {
		last = p.recent.seen(f.ID)
	}
	fps := make(map[uint64]struct{}, len(parsed.Items))
	shared := sharedRawLinks(parsed.Items)
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
		if shared[strings.TrimSpace(e.Link)] {
			it.AltKeys = nil
		}
		it.TooOld = it.Dated && f.MaxItemAge > 0 && start.Sub(it.Published) > f.MaxItemAge
		items = append(items, it)
	}
	sharedLinks(items)
	if len(items) > 0 || p.DryRun {
		counts, err := p.Sink.Items(ctx, f, items, start)
		if err != nil {
			res.Err = &FetchError{Class: ClassStore, Err: err}
			return p.finish(ctx, res, prev, st, start)
		}
		res.New, res.TooOld = counts.New, counts.TooOld
	}
	if !p.DryRun {
		p.recent.remember(f.ID, fps)
	}
	st.ETag, st.LastModified = resp.ETag, resp.LastModified
	return p.finish(ctx, res, prev, st, start)
}

func (p *Poller) finish(ctx context.Context, res Result, prev, st store.FeedState, start time.Time) Result {
	res.Err = RedactError(res.Err) // feed URLs may carry keys: keep them out of logs and the store
	now := p.now()
	res.Duration = now.Sub(start)
	st.FeedID = res.Feed.ID
	st.LastPoll = now
	if res.Err == nil {
		st.LastSuccess = now
		st.LastError, st.ErrorClass = "", ""
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

// sharedRawLinks returns the links that several entries with different
// GUIDs share, as the document gives them.
func sharedRawLinks(entries []*gofeed.Item) map[string]bool {
	var shared map[string]bool
	owner := make(map[string]string, len(entries))
	for _, e := range entries {
		if e == nil || e.Link == "" {
			continue
		}
		l := strings.TrimSpace(e.Link)
		if g, ok := owner[l]; ok && g != e.GUID {
			if shared == nil {
				shared = map[string]bool{}
			}
			shared[l] = true
		}
		owner[l] = e.GUID
	}
	return shared
}

// sharedLinks drops the link identity of items that share their link with
// a different item of the same document: some feeds give every item the
// site's home page as its link, and those items must not all count as one
// story.
func sharedLinks(items []Item) {
	owner := make(map[string]string, len(items)) // link key -> item key
	shared := map[string]bool{}
	for _, it := range items {
		for _, k := range it.AltKeys {
			if o, ok := owner[k]; ok && o != it.Key {
				shared[k] = true
			}
			owner[k] = it.Key
		}
	}
	if len(shared) == 0 {
		return
	}
	for i := range items {
		items[i].AltKeys = slices.DeleteFunc(items[i].AltKeys, func(k string) bool { return shared[k] })
	}
}

// rssTranslator skips gofeed's search for an item image, which parses
// every item's HTML a second time (a quarter of the parse) for a field
// schoolwatch does not use.
var rssTranslator = &gofeed.DefaultRSSTranslator{DisableContentImageScan: true}

// parse sniffs the document's type (servers often send feeds as text/html
// or application/octet-stream) and parses it.
func parse(resp *Response) (*gofeed.Feed, error) {
	fp := gofeed.NewParser()
	fp.RSSTranslator = rssTranslator
	parsed, err := fp.Parse(bytes.NewReader(resp.Body))
	switch {
	case errors.Is(err, gofeed.ErrFeedTypeNotDetected):
		return nil, &FetchError{Class: ClassNotFeed, Err: fmt.Errorf("not RSS, Atom or JSON Feed (Content-Type %q)", resp.ContentType)}
	case err != nil:
		return nil, &FetchError{Class: ClassParse, Err: err}
	}
	return parsed, nil
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
	max := p.MaxBackoff
	if max <= 0 {
		max = 6 * time.Hour
	}
	if fe := (*FetchError)(nil); errors.As(err, &fe) && fe.RetryAfter > 0 {
		return min(fe.RetryAfter, max)
	}
	d := time.Minute
	for i := 1; i < failures && d < max; i++ {
		d *= 2
	}
	return min(d, max)
}

// String describes a result for logs and the once command.
func (r Result) String() string {
	switch {
	case r.Err != nil:
		return fmt.Sprintf("%s: error: %v", r.Feed.ID, r.Err)
	case r.NotModified:
		return fmt.Sprintf("%s: not modified", r.Feed.ID)
	}
	return fmt.Sprintf("%s: %d items, %d new", r.Feed.ID, r.Items, r.New)
}
