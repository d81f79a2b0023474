package mail

import (
	"sync"
	"time"

	"github.com/schoolwatch/schoolwatch/store"
)

// Unrecorded holds, in memory, the final outcomes of deliveries (accepted,
// or rejected for good) that the store has not recorded yet. A message in
// it is not delivered again by any sender sharing it. It is safe for
// concurrent use.
type Unrecorded struct {
	mu   sync.Mutex
	byID map[int64]outcome
}

// NewUnrecorded returns an empty Unrecorded.
func NewUnrecorded() *Unrecorded { return &Unrecorded{byID: map[int64]outcome{}} }

type outcome struct {
	key    string
	sent   bool      // accepted by the server; else rejected for good
	at     time.Time // when it was accepted
	reason string    // why it was rejected
}

func (o outcome) status() string {
	if o.sent {
		return store.StatusSent
	}
	return store.StatusFailed
}

// Len is how many outcomes wait to be recorded.
func (u *Unrecorded) Len() int {
	u.mu.Lock()
	defer u.mu.Unlock()
	return len(u.byID)
}

// Has reports whether message id has an outcome waiting to be recorded.
func (u *Unrecorded) Has(id int64) bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	_, ok := u.byID[id]
	return ok
}

func (u *Unrecorded) add(id int64, o outcome) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.byID[id] = o
}

func (u *Unrecorded) remove(id int64) {
	u.mu.Lock()
	defer u.mu.Unlock()
	delete(u.byID, id)
}

func (u *Unrecorded) snapshot() map[int64]outcome {
	u.mu.Lock()
	defer u.mu.Unlock()
	out := make(map[int64]outcome, len(u.byID))
	for id, o := range u.byID {
		out[id] = o
	}
	return out
}
