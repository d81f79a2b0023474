package blackbox

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	_ "modernc.org/sqlite"

	"github.com/schoolwatch/schoolwatch/alerts/smtptest"
	"github.com/schoolwatch/schoolwatch/store"
)

// smallDisk mounts a tmpfs of size bytes on a new directory and unmounts it
// when the test ends. Mounting needs root (CI runs as root); elsewhere the
// test is skipped.
func smallDisk(t *testing.T, size string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "disk")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size, "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a small tmpfs (needs root): %v: %s", err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", "-l", dir).CombinedOutput(); err != nil {
			t.Logf("umount %s: %v: %s", dir, err, out)
		}
	})
	return dir
}

// fill writes a file in dir until the disk is full, and returns its path.
func fill(t *testing.T, dir string) string {
	t.Helper()
	p := filepath.Join(dir, "filler")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, 4096)
	for {
		if _, err := f.Write(buf); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatal(err)
			}
			return p
		}
	}
}

// integrity runs SQLite's integrity check on the store file.
func integrity(t *testing.T, path string) {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var res string
	if err := db.QueryRow("PRAGMA integrity_check").Scan(&res); err != nil || res != "ok" {
		t.Errorf("integrity check of %s: %q, %v", path, res, err)
	}
}

// TestDiskFull fills the store's disk while items keep arriving: the
// failure is logged and counted, nothing is corrupted, and once space is
// freed every alert still arrives, once.
func TestDiskFull(t *testing.T) {
	t.Parallel()
	disk := smallDisk(t, "16m")
	dir := t.TempDir()
	fs := serveFeeds(t)
	srv := smtptest.Start(t)
	port := freePort(t)
	dbPath := filepath.Join(disk, "sw.db")
	cfg := config{Dir: dir, Port: port, SMTP: srv.Addr, Store: dbPath, Feeds: []feedConfig{{ID: "news", URL: fs.URL + "/news.xml"}}}.write(t)
	want := expect{}
	fs.Add("/news.xml", threatItem("oak", "TKdisk-0"))
	want.add("oak", "TKdisk-0")
	d := start(t, cfg, port, nil)
	d.waitReady()
	waitMail(t, srv, want, 20*time.Second)
	eventually(t, 10*time.Second, "an empty outbox", func() bool { return d.metric("schoolwatch_outbox_depth") == 0 })

	filler := fill(t, disk)
	// Enough new items that SQLite must grow its files.
	pad := strings.Repeat("Long local news text about the village fête and the bins. ", 40)
	for i := 1; i <= 300; i++ {
		tk := fmt.Sprintf("TKdisk-%d", i)
		it := threatItem([]string{"oak", "river"}[i%2], tk)
		it.Text += " " + pad
		fs.Add("/news.xml", it)
		want.add([]string{"oak", "river"}[i%2], tk)
	}
	eventually(t, 20*time.Second, "the store failure in the metrics", func() bool {
		return d.metric("schoolwatch_polls_total", `feed="news"`, `class="store"`) >= 1
	})
	if !strings.Contains(d.log.String(), "full") {
		t.Error(`the logs do not say the disk is full ("database or disk is full")`)
	}
	if d.running() && d.ready() {
		t.Error("/readyz says ready while polls cannot be recorded")
	}
	if !d.running() {
		t.Logf("the daemon exited on a full disk with code %d", d.cmd.ProcessState.ExitCode())
		if code := d.cmd.ProcessState.ExitCode(); code == 0 {
			t.Error("exit code 0 on a full disk")
		}
		d = start(t, cfg, port, d.log)
	}
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	defer func() {
		if t.Failed() {
			out, _ := exec.Command("ls", "-la", disk).CombinedOutput()
			t.Logf("store disk:\n%s", out)
		}
	}()
	waitMail(t, srv, want, 40*time.Second)
	eventually(t, 10*time.Second, "an empty outbox", func() bool { return d.metric("schoolwatch_outbox_depth") == 0 })
	eventually(t, 10*time.Second, "ready again once the disk has room", d.ready)
	d.stop()
	l := tally(t, srv.Messages())
	if tw := l.twice(); len(tw) > 0 {
		t.Errorf("alerts in more than one mail: %v", tw)
	}
	t.Logf("%d mails, %d resends of a Message-ID", l.messages, l.resent)
	integrity(t, dbPath)
}

// TestReadOnlyStore starts the daemon on a store whose file system is
// read-only: it exits non-zero with a clear error and leaves the file intact.
func TestReadOnlyStore(t *testing.T) {
	t.Parallel()
	disk := smallDisk(t, "8m")
	dir := t.TempDir()
	dbPath := filepath.Join(disk, "sw.db")
	st, err := store.Open(context.Background(), dbPath)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.RecordItems(ctx(t), time.Now(), []store.Item{{Key: "k1", FeedID: "news"}}); err != nil {
		t.Fatal(err)
	}
	st.Close()
	if out, err := exec.Command("mount", "-o", "remount,ro", disk).CombinedOutput(); err != nil {
		t.Skipf("cannot remount read-only: %v: %s", err, out)
	}
	port := freePort(t)
	cfg := config{Dir: dir, Port: port, Store: dbPath, Feeds: []feedConfig{{ID: "news", URL: "http://127.0.0.1:1/none.xml"}}}.write(t)
	d := start(t, cfg, port, nil)
	code := d.wait(20 * time.Second)
	if code == 0 {
		t.Fatal("exit code 0 on a read-only store")
	}
	logs := d.log.String()
	if !strings.Contains(logs, dbPath) || !(strings.Contains(logs, "read-only") || strings.Contains(logs, "readonly") || strings.Contains(logs, "unable to open")) {
		t.Errorf("unclear error on a read-only store:\n%s", logs)
	}
	exec.Command("mount", "-o", "remount,rw", disk).Run()
	integrity(t, dbPath)
	st, err = store.Open(context.Background(), dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if seen, err := st.Seen(ctx(t), "k1"); err != nil || !seen {
		t.Errorf("the store lost its item: %v %v", seen, err)
	}
}
