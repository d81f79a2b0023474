package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// markerCount counts marker in the database file and its write-ahead log.
func markerCount(t *testing.T, path, marker string) int {
	t.Helper()
	n := 0
	for _, p := range []string{path, path + "-wal"} {
		b, err := os.ReadFile(p)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		n += bytes.Count(b, []byte(marker))
	}
	return n
}

// TestPurgedTextIsGone: after the retention purge (and the checkpoint the
// daemon runs after it), the text of purged mail is nowhere in the
// database file or its log: not in free pages, not in old log frames.
func TestPurgedTextIsGone(t *testing.T) {
	ctx := context.Background()
	s, path := openSQLite(t)
	const marker = "PUPILNAMEMARKER"
	now := time.Now()
	old := now.Add(-200 * time.Hour)
	for i := range 40 {
		body := fmt.Sprintf("post about %s%d ", marker, i)
		if i%4 == 0 {
			body = strings.Repeat(body, 400) // spills into overflow pages
		}
		p := Pending{Recipient: "head@x.org", SchoolID: "1", ItemKey: fmt.Sprintf("item-%d", i), RuleID: "threat", Delivery: "immediate", Payload: []byte(body)}
		if err := s.addPending(ctx, old, p); err != nil {
			t.Fatal(err)
		}
		ps, err := s.ListPending(ctx, "immediate")
		if err != nil || len(ps) != 1 {
			t.Fatalf("pending: %d, %v", len(ps), err)
		}
		m := Message{Key: fmt.Sprintf("mail-%d", i), Kind: "alert", Recipient: "head@x.org", Subject: "s", Raw: []byte(body)}
		if _, err := s.Enqueue(ctx, old, m, []int64{ps[0].ID}, []string{p.ItemKey}); err != nil {
			t.Fatal(err)
		}
	}
	due, err := s.due(ctx, now, 100)
	if err != nil || len(due) != 40 {
		t.Fatalf("due: %d, %v", len(due), err)
	}
	for _, m := range due {
		if err := s.MarkSent(ctx, m.ID, old); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Checkpoint(ctx); err != nil {
		t.Fatal(err)
	}
	if n := markerCount(t, path, marker); n == 0 {
		t.Fatal("the marker is not in the file before the purge: the test proves nothing")
	}

	n, err := s.Purge(ctx, now.Add(-100*time.Hour))
	if err != nil || n < 40 {
		t.Fatalf("purge = %d, %v", n, err)
	}
	if err := s.Checkpoint(ctx); err != nil {
		t.Fatal(err)
	}
	if n := markerCount(t, path, marker); n != 0 {
		t.Errorf("the store is open: %d copies of purged text left in %s and its log", n, filepath.Base(path))
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if n := markerCount(t, path, marker); n != 0 {
		t.Errorf("the store is closed: %d copies of purged text left in %s and its log", n, filepath.Base(path))
	}
}

// TestStoreFilesArePrivate: the database, its -wal and -shm are 0600 under
// umask 022 in an existing 0755 folder, and an existing 0644 database
// (from an older version) is made 0600 when opened.
func TestStoreFilesArePrivate(t *testing.T) {
	old := syscall.Umask(0o022)
	defer syscall.Umask(old)
	dir := filepath.Join(t.TempDir(), "var")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	check := func(path string) {
		t.Helper()
		for _, p := range []string{path, path + "-wal", path + "-shm"} {
			fi, err := os.Stat(p)
			if err != nil {
				t.Fatal(err)
			}
			if fi.Mode().Perm() != 0o600 {
				t.Errorf("%s is %v, want 0600", filepath.Base(p), fi.Mode().Perm())
			}
		}
	}
	ctx := context.Background()
	path := filepath.Join(dir, "sw.db")
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.RecordItems(ctx, time.Now(), []Item{{Key: "k", FeedID: "f"}}); err != nil {
		t.Fatal(err)
	}
	check(path)
	s.Close()

	// Files as an older version left them: everything 0644, and (as after
	// a crash) an empty log and shared-memory file beside the database.
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		f, err := os.OpenFile(p, os.O_RDWR|os.O_CREATE, 0o644)
		if err != nil {
			t.Fatal(err)
		}
		if err := errors.Join(f.Chmod(0o644), f.Close()); err != nil {
			t.Fatal(err)
		}
	}
	s, err = Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if seen, err := s.Seen(ctx, "k"); err != nil || !seen {
		t.Fatalf("reopened store lost its item: %v, %v", seen, err)
	}
	check(path)
}

// TestLock: one process (here, one Lock) at a time; the second fails at
// once with ErrLocked and names the lock file; after Release the lock can
// be taken again; the lock file is 0600.
func TestLock(t *testing.T) {
	old := syscall.Umask(0o022)
	defer syscall.Umask(old)
	path := filepath.Join(t.TempDir(), "new", "sw.db")
	first, err := Lock(path)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(LockPath(path))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("lock file: %v, %v; want mode 0600", fi, err)
	}
	second, err := Lock(path)
	if err == nil {
		second.Release()
		t.Fatal("a second Lock of the same store succeeded")
	}
	if !errors.Is(err, ErrLocked) || !strings.Contains(err.Error(), LockPath(path)) || !strings.Contains(err.Error(), fmt.Sprintf("process %d", os.Getpid())) {
		t.Errorf("second Lock: %v; want ErrLocked naming %s and the holder", err, LockPath(path))
	}
	if other, err := Lock(path + "2"); err != nil {
		t.Errorf("another store is locked too: %v", err)
	} else {
		other.Release()
	}
	if err := first.Release(); err != nil {
		t.Fatal(err)
	}
	again, err := Lock(path)
	if err != nil {
		t.Fatalf("Lock after Release: %v", err)
	}
	again.Release()
}

// A finding held for a digest past the retention period is purged with its
// excerpt; one waiting for its immediate mail is kept, however old.
func TestPurgeDigestFindings(t *testing.T) {
	ctx := context.Background()
	s, _ := open(t)
	now := time.Now()
	old := now.Add(-200 * time.Hour)
	for i, d := range []string{"digest", "weekly", "immediate", "digest"} {
		at := old
		if i == 3 {
			at = now // recent: kept
		}
		p := Pending{Recipient: "head@x.org", SchoolID: "1", ItemKey: fmt.Sprintf("item-%d", i), RuleID: "mention", Delivery: d, Payload: []byte("a post")}
		if err := s.addPending(ctx, at, p); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.Purge(ctx, now.Add(-100*time.Hour)); err != nil {
		t.Fatal(err)
	}
	for d, want := range map[string]int{"digest": 1, "weekly": 0, "immediate": 1} {
		ps, err := s.ListPending(ctx, d)
		if err != nil || len(ps) != want {
			t.Errorf("pending %s after the purge: %d, %v; want %d", d, len(ps), err, want)
		}
	}
}
