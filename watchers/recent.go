package watchers

import (
	"hash/maphash"
	"sync"

	"github.com/mmcdole/gofeed"
)

// recent remembers, per feed, fingerprints of the entries in the document
// of its last successful poll. Those entries were recorded in the store by
// that poll, so a later poll can pass over them without normalising them or
// asking the store: a changed feed usually carries one or two new entries
// and a score it had before. It is only a shortcut: anything not in the
// last document, and every entry after a restart, goes to the store, which
// decides what is new.
type recent struct {
	seed maphash.Seed
	once sync.Once

	mu    sync.Mutex
	feeds map[string]map[uint64]struct{}
}

// fingerprint covers every field normalisation reads, so an entry that was
// edited in any way that could change its identity or text is not skipped.
func (r *recent) fingerprint(e *gofeed.Item) uint64 {
	r.once.Do(func() { r.seed = maphash.MakeSeed() })
	var h maphash.Hash
	h.SetSeed(r.seed)
	for _, s := range []string{e.GUID, e.Link, e.Title, e.Description, e.Content, e.Published, e.Updated} {
		h.WriteString(s)
		h.WriteByte(0)
	}
	if e.Author != nil {
		h.WriteString(e.Author.Name)
	}
	return h.Sum64()
}

// seen returns the fingerprints of feed's last successful document.
func (r *recent) seen(feed string) map[uint64]struct{} {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.feeds[feed]
}

// remember replaces feed's fingerprints after a successful poll.
func (r *recent) remember(feed string, fps map[uint64]struct{}) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.feeds == nil {
		r.feeds = map[string]map[uint64]struct{}{}
	}
	r.feeds[feed] = fps
}
