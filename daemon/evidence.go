package daemon

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/schoolwatch/schoolwatch/store"
)

// Evidence reads the evidence records kept for item keys (the keys alert
// mails and their records show), in the order given. Like Status it only
// reads and takes no lock, so it works beside a running daemon. A key
// with no record (never alerted, or purged after store.retention) is an
// error wrapping store.ErrNoEvidence.
func Evidence(ctx context.Context, p *Plan, keys ...string) ([]store.Evidence, error) {
	path := p.Config.Resolve(p.Config.Store.Path)
	if _, err := os.Stat(path); !p.Config.Store.Postgres() && errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("store %s does not exist yet: no poll has been recorded: %w", path, ErrNoStore)
	}
	st, err := openStore(ctx, p.Config)
	if err != nil {
		return nil, err
	}
	defer st.Close()
	found, err := st.EvidenceFor(ctx, keys)
	if err != nil {
		return nil, err
	}
	out := make([]store.Evidence, 0, len(keys))
	for _, k := range keys {
		e, ok := found[k]
		if !ok {
			return out, fmt.Errorf("%w for %q: the key is not one an alert carried, or its record was purged (records are kept for store.retention, %s)", store.ErrNoEvidence, k, p.Config.Store.Retention.Duration)
		}
		out = append(out, e)
	}
	return out, nil
}
