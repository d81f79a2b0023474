package daemon

import (
	"context"

	"github.com/schoolwatch/schoolwatch/config"
	"github.com/schoolwatch/schoolwatch/store"
)

// openStore opens the configured store: the SQLite file at store.path, or
// with store.driver postgres the database at store.dsn.
func openStore(ctx context.Context, cfg *config.Config) (*store.Store, error) {
	if cfg.Store.Postgres() {
		return store.OpenPostgres(ctx, cfg.Store.DSN)
	}
	return store.Open(ctx, cfg.Resolve(cfg.Store.Path))
}

// lockStore takes the SQLite store's file lock (one daemon per store). A
// Postgres store takes none: replicas share it on purpose, and coordinate
// through the database. The returned release is never nil.
func lockStore(cfg *config.Config) (release func(), err error) {
	if cfg.Store.Postgres() {
		return func() {}, nil
	}
	lock, err := store.Lock(cfg.Resolve(cfg.Store.Path))
	if err != nil {
		return nil, err
	}
	return func() { lock.Release() }, nil
}

// storeMoved reports whether a reloaded config names another store than
// the open one (at path, "" for Postgres).
func storeMoved(old, cfg *config.Config, path string) bool {
	if cfg.Store.Postgres() || old.Store.Postgres() {
		return cfg.Store.Driver != old.Store.Driver || cfg.Store.DSN != old.Store.DSN
	}
	return cfg.Resolve(cfg.Store.Path) != path
}
