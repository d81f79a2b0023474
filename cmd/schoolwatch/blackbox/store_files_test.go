package blackbox

import (
	"bytes"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	_ "modernc.org/sqlite"

	"github.com/schoolwatch/schoolwatch/alerts/smtptest"
)

// startUmask is start with the daemon's umask set to mask (octal).
func startUmask(t *testing.T, mask, cfg string, port int) *daemon {
	t.Helper()
	cmd := exec.Command("sh", "-c", `umask `+mask+` && exec "$0" "$@"`, binary, "run", "-config", cfg)
	return launch(t, cmd, port, &logBuffer{})
}

// storeCopies counts marker in the store file and its write-ahead log.
func storeCopies(t *testing.T, dbPath, marker string) int {
	t.Helper()
	n := 0
	for _, p := range []string{dbPath, dbPath + "-wal"} {
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

// assertPrivate fails for each store file that is not mode 0600.
func assertPrivate(t *testing.T, dbPath string) {
	t.Helper()
	for _, p := range []string{dbPath, dbPath + "-wal", dbPath + "-shm", dbPath + ".lock"} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Errorf("%s: %v", filepath.Base(p), err)
			continue
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s is %v, want -rw------- whatever the umask", filepath.Base(p), fi.Mode().Perm())
		}
	}
}

// TestStoreFilesPrivateAndPurged: under umask 022, in a store folder that
// already exists with mode 0755, the database, its -wal and -shm and the
// lock file are created 0600 (F12). The retention purge leaves none of the
// purged mail's text in the database file or its log, neither while the
// daemon runs nor after it stops (F9).
func TestStoreFilesPrivateAndPurged(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	storeDir := filepath.Join(dir, "var")
	if err := os.Mkdir(storeDir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(storeDir, 0o755); err != nil {
		t.Fatal(err)
	}
	dbPath := filepath.Join(storeDir, "sw.db")
	fs := serveFeeds(t)
	srv := smtptest.Start(t)
	port := freePort(t)
	c := config{Dir: dir, Port: port, SMTP: srv.Addr, Store: dbPath, Feeds: []feedConfig{{ID: "news", URL: fs.URL + "/news.xml"}}}
	cfg := c.write(t)

	const marker = "PUPILNAMEMARK"
	want := expect{}
	for i, school := range []string{"oak", "river", "oak", "river", "oak"} {
		tk := fmt.Sprintf("TKpurge-%d", i)
		it := threatItem(school, tk)
		it.Title += " about " + marker
		it.Text += " The pupil is " + marker + ". " + strings.Repeat("More detail about the day. ", 200)
		fs.Add("/news.xml", it)
		want.add(school, tk)
	}
	d := startUmask(t, "022", cfg, port)
	d.waitReady()
	waitMail(t, srv, want, 20*time.Second)
	eventually(t, 10*time.Second, "an empty outbox", func() bool { return d.metric("schoolwatch_outbox_depth") == 0 })
	assertPrivate(t, dbPath)
	d.stop()
	stored := storeCopies(t, dbPath, marker)
	if stored == 0 {
		t.Fatal("the marker is not in the store before the purge: the test proves nothing")
	}

	// Make everything 200 h old, stop serving the posts, and restart with a
	// retention of 100 h: the daemon purges when it starts.
	db, err := sql.Open("sqlite", "file:"+dbPath)
	if err != nil {
		t.Fatal(err)
	}
	const age = int64(200 * time.Hour / time.Millisecond)
	for _, q := range []string{
		`UPDATE outbox SET created = created - ?`,
		`UPDATE seen_items SET first_seen = first_seen - ?`,
		`UPDATE alert_log SET created = created - ?`,
		`UPDATE pending SET created = created - ?`,
		`UPDATE evidence SET first_seen = first_seen - ?`,
		`UPDATE incidents SET created = created - ?`,
		`UPDATE suppressed SET created = created - ?`,
	} {
		if _, err := db.Exec(q, age); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	fs.Set("/news.xml")
	c.Retain = "100h"
	c.write(t)
	d = startUmask(t, "022", cfg, port)
	d.waitReady()
	eventually(t, 20*time.Second, "the purge", func() bool { return strings.Contains(d.log.String(), "purged old records") })
	// The purge is logged before the log is truncated: poll.
	left := storeCopies(t, dbPath, marker)
	for deadline := time.Now().Add(10 * time.Second); left > 0 && time.Now().Before(deadline); left = storeCopies(t, dbPath, marker) {
		time.Sleep(20 * time.Millisecond)
	}
	t.Logf("copies of the marker in the store files: %d before the purge, %d after it while the daemon runs", stored, left)
	if left != 0 {
		t.Errorf("%d of %d copies of purged text still in the running daemon's store files", left, stored)
	}
	assertPrivate(t, dbPath)
	d.stop()
	if n := storeCopies(t, dbPath, marker); n != 0 {
		t.Errorf("%d copies of purged text in the store after the daemon stopped", n)
	}
	integrity(t, dbPath)
}
