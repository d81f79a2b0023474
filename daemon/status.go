package daemon

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"

	"github.com/schoolwatch/schoolwatch/alerts"
	"github.com/schoolwatch/schoolwatch/watchers"
)

// ErrNoStore is returned by Status when the store does not exist yet.
var ErrNoStore = errors.New("no store yet")

// Status reads every configured feed's health from the store. It only
// reads and takes no lock, so it works beside a running daemon: the store
// is in WAL mode and readers never block the writer.
func Status(ctx context.Context, p *Plan, now time.Time) ([]alerts.FeedHealth, error) {
	path := p.Config.Resolve(p.Config.Store.Path)
	// Opening a missing path would create an empty database; say so instead.
	if _, err := os.Stat(path); !p.Config.Store.Postgres() && errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("store %s does not exist yet: no poll has been recorded (run the daemon or `schoolwatch once --send`): %w", path, ErrNoStore)
	}
	st, err := openStore(ctx, p.Config)
	if err != nil {
		return nil, err
	}
	defer st.Close()
	fh, err := feedHealth(ctx, st, p, now)
	if err != nil {
		return nil, err
	}
	// A healthy feed's next poll is its schedule's (the store keeps one
	// only for a feed backing off after failures).
	for i := range fh {
		if f := fh[i].Feed; f.Schedule != nil && !fh[i].State.NextPoll.After(now) {
			fh[i].State.NextPoll = f.Schedule.Next(now)
		}
	}
	return fh, nil
}

func healthPolicy(p *Plan) watchers.HealthPolicy {
	return watchers.HealthPolicy{FailuresBeforeNotice: p.Config.Defaults.FailuresBeforeNotice}
}
