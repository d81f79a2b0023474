package watchers

import (
	"context"
	"sync"
	"time"

	"github.com/schoolwatch/schoolwatch/store"
)

// maxDeferred bounds the feed states held back from the store before a
// poll writes them all.
const maxDeferred = 256

// states keeps each feed's polling state in memory, in front of the store.
// The Poller is the only writer of feed state, so the copy here is the
// truth; a poll need not read the store.
//
// A success following a success is written behind: up to maxDeferred
// states are held and written in one transaction, or at the next Flush
// (the Scheduler flushes every FlushInterval and when it stops). A feed's
// first success, a failure with its backoff, and a recovery are written
// before the poll returns. Feed state is advice about polling, never about
// what was seen (that is recorded with the items), so a crash costs at most
// a full fetch where a conditional one would have done, and slightly older
// success times.
type states struct {
	mu       sync.Mutex
	cache    map[string]store.FeedState
	deferred map[string]bool
}

// get returns the feed's state, from memory or the store. A next poll time
// read from the store is brought forward to latest() if it lies beyond it.
func (s *states) get(ctx context.Context, st *store.Store, id string, latest func() time.Time) (store.FeedState, error) {
	s.mu.Lock()
	fs, ok := s.cache[id]
	s.mu.Unlock()
	if ok {
		return fs, nil
	}
	fs, _, err := st.FeedState(ctx, id)
	if err != nil {
		return fs, err
	}
	if limit := latest(); fs.NextPoll.After(limit) {
		fs.NextPoll = limit
	}
	s.mu.Lock()
	if cur, ok := s.cache[id]; ok {
		fs = cur // a poll finished meanwhile
	} else {
		if s.cache == nil {
			s.cache = map[string]store.FeedState{}
		}
		s.cache[id] = fs
	}
	s.mu.Unlock()
	return fs, nil
}

// put records a feed's new state, writing it (and any deferred ones) now
// unless it may be deferred.
func (s *states) put(ctx context.Context, st *store.Store, fs store.FeedState, routine bool) error {
	s.mu.Lock()
	if s.cache == nil {
		s.cache = map[string]store.FeedState{}
	}
	if s.deferred == nil {
		s.deferred = map[string]bool{}
	}
	s.cache[fs.FeedID] = fs
	if routine && len(s.deferred) < maxDeferred {
		s.deferred[fs.FeedID] = true
		s.mu.Unlock()
		return nil
	}
	delete(s.deferred, fs.FeedID)
	batch := s.takeLocked()
	s.mu.Unlock()
	return st.PutFeedStates(ctx, append(batch, fs)...)
}

// flush writes every deferred state.
func (s *states) flush(ctx context.Context, st *store.Store) error {
	s.mu.Lock()
	batch := s.takeLocked()
	s.mu.Unlock()
	if len(batch) == 0 {
		return nil
	}
	return st.PutFeedStates(ctx, batch...)
}

func (s *states) takeLocked() []store.FeedState {
	out := make([]store.FeedState, 0, len(s.deferred)+1)
	for id := range s.deferred {
		out = append(out, s.cache[id])
	}
	clear(s.deferred)
	return out
}
