package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"syscall"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// Store is an open schoolwatch database. It is safe for concurrent use.
type Store struct {
	db   *sql.DB
	path string
	// postgres: the database is Postgres (OpenPostgres), shared by
	// replicas; otherwise SQLite, this process's own.
	postgres bool
	// replica names this process among those sharing a Postgres store;
	// lease is how long its claims last (DefaultLease).
	replica string
	lease   time.Duration
	leader  leader  // postgres_cluster.go
	batch   batcher // group commit of small writes (batch.go)
	hot     hotStmts
}

// hotStmts run once per item or per poll: they are prepared once, when the
// store opens, rather than parsed again at every use. Use them in a
// transaction through tx.StmtContext.
type hotStmts struct {
	savepoint, release, rollbackTo *sql.Stmt // batch.go
	seenInsert                     *sql.Stmt // items.go
	feedStateUpsert                *sql.Stmt // feeds.go
}

func (h *hotStmts) prepare(ctx context.Context, db *sql.DB) error {
	for _, p := range []struct {
		st    **sql.Stmt
		query string
	}{
		{&h.savepoint, qSavepoint}, {&h.release, qRelease}, {&h.rollbackTo, qRollbackTo},
		{&h.seenInsert, qSeenInsert}, {&h.feedStateUpsert, qFeedStateUpsert},
	} {
		st, err := db.PrepareContext(ctx, p.query)
		if err != nil {
			return fmt.Errorf("prepare: %w", err)
		}
		*p.st = st
	}
	return nil
}

func (h *hotStmts) close() {
	for _, st := range []*sql.Stmt{h.savepoint, h.release, h.rollbackTo, h.seenInsert, h.feedStateUpsert} {
		if st != nil {
			st.Close()
		}
	}
}

// Open opens (creating if needed) the database at path and migrates it to
// the current schema. The database and its -wal and -shm files are
// readable by their owner only, whatever the umask: they hold post text
// and leaders' addresses.
func Open(ctx context.Context, path string) (*Store, error) {
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return nil, fmt.Errorf("open store: %w", err)
		}
	}
	// SQLite creates -wal and -shm with the mode of the database file, so a
	// private database file makes all three private.
	if err := privateFile(path); err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	q := url.Values{}
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "synchronous(NORMAL)")
	q.Add("_pragma", "foreign_keys(1)")
	// Deleted rows are overwritten with zeros, so text removed by the
	// retention purge (and findings consumed into mail) does not linger
	// in free pages of the file. See also Checkpoint.
	q.Add("_pragma", "secure_delete(1)")
	// The seen-items index is keyed by hashes, so recording a poll touches
	// pages all over it: a page cache that holds the index saves a read per
	// item, and a longer WAL lets a page changed by many commits reach the
	// database file once per checkpoint instead of once per commit or so.
	// Bigger is not better: at the end of each write transaction SQLite
	// walks its page cache's whole hash table, so in the 10,000-feed poll
	// benchmark 64 MiB spent 2.0 s a cycle in the store against 1.6 s for
	// 16 MiB, and held more memory for it.
	q.Add("_pragma", "cache_size(-16384)")
	q.Add("_pragma", "wal_autocheckpoint(8192)")
	q.Set("_txlock", "immediate")
	db, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	// SQLite has one writer at a time; a single connection avoids
	// SQLITE_BUSY storms and keeps transactions strictly ordered.
	db.SetMaxOpenConns(1)
	s := &Store{db: db, path: path}
	s.batch.linger = batchLinger
	s.batch.full = make(chan struct{}, 1)
	if err := s.migrate(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	if err := s.hot.prepare(ctx, db); err != nil {
		s.hot.close()
		db.Close()
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	// Files left by an older version, or by a process with another umask.
	for _, p := range []string{path + "-wal", path + "-shm"} {
		if err := tighten(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			s.Close()
			return nil, fmt.Errorf("open store: %w", err)
		}
	}
	return s, nil
}

// privateFile creates path with mode 0600 if it does not exist, and takes
// group and other permissions away from it if it does.
func privateFile(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return tighten(path)
	}
	if err != nil {
		return err
	}
	// The umask cannot widen 0600, but it can narrow it (umask 0277).
	return errors.Join(f.Chmod(0o600), f.Close())
}

// tighten takes group and other permissions away from an existing file. A
// file this process may not change (another owner, a read-only mount) is
// left as it is: the store is still usable, and a read-only copy is not
// this process's to fix.
func tighten(path string) error {
	fi, err := os.Stat(path)
	if err != nil {
		return err
	}
	if fi.Mode().Perm()&0o077 == 0 {
		return nil
	}
	err = os.Chmod(path, fi.Mode().Perm()&0o700)
	if errors.Is(err, fs.ErrPermission) || errors.Is(err, syscall.EROFS) {
		return nil
	}
	return err
}

// Checkpoint copies the write-ahead log into the database file and
// truncates the log to zero bytes. With secure_delete, that removes the
// last copies of deleted rows (old page images in the log) from the disk;
// call it after a purge that removed rows.
func (s *Store) Checkpoint(ctx context.Context) error {
	if s.postgres {
		return nil // Postgres has no write-ahead log of ours to truncate
	}
	var busy, logFrames, done int
	if err := s.db.QueryRowContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`).Scan(&busy, &logFrames, &done); err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	if busy != 0 {
		return errors.New("checkpoint: another connection is reading the store; the log is truncated at a later checkpoint")
	}
	return nil
}

// Close closes the database.
func (s *Store) Close() error {
	s.releaseLeader()
	s.hot.close()
	return s.db.Close()
}

// Path is the database file.
func (s *Store) Path() string { return s.path }

// Ping checks that the database answers (for readiness).
func (s *Store) Ping(ctx context.Context) error {
	var one int
	return s.db.QueryRowContext(ctx, "SELECT 1").Scan(&one)
}

// tx runs fn in a transaction, committing when fn returns nil.
func (s *Store) tx(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		return errors.Join(err, tx.Rollback())
	}
	return tx.Commit()
}

func ms(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

func fromMS(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.UnixMilli(v)
}
