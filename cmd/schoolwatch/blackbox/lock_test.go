package blackbox

import (
	"bytes"
	"errors"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/schoolwatch/schoolwatch/alerts/smtptest"
)

// runCmd runs a schoolwatch command to completion and returns its exit
// code and combined output.
func runCmd(t *testing.T, args ...string) (int, string) {
	t.Helper()
	var out bytes.Buffer
	cmd := exec.Command(binary, args...)
	cmd.Stdout, cmd.Stderr = &out, &out
	done := make(chan error, 1)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		var ee *exec.ExitError
		if err != nil && !errors.As(err, &ee) {
			t.Fatal(err)
		}
	case <-time.After(60 * time.Second):
		cmd.Process.Kill()
		<-done
		t.Fatalf("schoolwatch %s did not finish within 60s:\n%s", strings.Join(args, " "), out.String())
	}
	return cmd.ProcessState.ExitCode(), out.String()
}

// TestOneDaemonPerStore: a second `run` on the same config (so the same
// store) refuses to start, exit 1, with an error naming the lock file;
// `once --send` refuses the same way; `status` and a dry `once` still
// work beside the daemon. The lock goes with its process, even on
// SIGKILL, and the mail goes out once (F7).
func TestOneDaemonPerStore(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	fs := serveFeeds(t)
	srv := smtptest.Start(t)
	port := freePort(t)
	cfg := config{Dir: dir, Port: port, SMTP: srv.Addr, Feeds: []feedConfig{{ID: "news", URL: fs.URL + "/news.xml"}}}.write(t)
	lockFile := filepath.Join(dir, "sw.db.lock")
	want := expect{}
	fs.Add("/news.xml", threatItem("oak", "TKlock-1"))
	want.add("oak", "TKlock-1")

	first := start(t, cfg, port, nil)
	first.waitReady()

	// The same config, and a copy that differs only in its metrics port
	// (so that the port cannot be what stops it).
	port2 := freePort(t)
	other := config{Dir: t.TempDir(), Port: port2, SMTP: srv.Addr, Store: filepath.Join(dir, "sw.db"), Feeds: []feedConfig{{ID: "news", URL: fs.URL + "/news.xml"}}}.write(t)
	for _, second := range []*daemon{start(t, cfg, port, nil), start(t, other, port2, nil)} {
		if code := second.wait(20 * time.Second); code != 1 {
			t.Errorf("second run: exit code %d, want 1", code)
		}
		for _, want := range []string{lockFile, "another schoolwatch is using the store"} {
			if !strings.Contains(second.log.String(), want) {
				t.Errorf("second run's error lacks %q:\n%s", want, second.log.String())
			}
		}
		if strings.Contains(second.log.String(), "schoolwatch started") {
			t.Error("the second run started before it failed on the lock")
		}
	}

	code, out := runCmd(t, "once", "--send", "-config", cfg)
	if code != 1 || !strings.Contains(out, lockFile) || !strings.Contains(out, "another schoolwatch is using the store") {
		t.Errorf("once --send beside the daemon: exit %d, want 1 with the lock named:\n%s", code, out)
	}
	if code, out := runCmd(t, "status", "-config", cfg); code != 0 || !strings.Contains(out, "news") {
		t.Errorf("status beside the daemon: exit %d:\n%s", code, out)
	}
	if code, out := runCmd(t, "once", "-config", cfg); code != 0 || !strings.Contains(out, "TKlock-1") {
		t.Errorf("dry once beside the daemon: exit %d:\n%s", code, out)
	}
	if !first.running() || !first.ready() {
		t.Fatal("the first daemon stopped or is not ready")
	}
	waitMail(t, srv, want, 20*time.Second)
	eventually(t, 10*time.Second, "the mail recorded as sent", func() bool { return first.metric("schoolwatch_outbox_depth") == 0 })

	// A daemon killed outright leaves no lock behind.
	first.kill()
	third := start(t, cfg, port, nil)
	third.waitReady()
	fs.Add("/news.xml", threatItem("river", "TKlock-2"))
	want.add("river", "TKlock-2")
	waitMail(t, srv, want, 20*time.Second)
	third.stop()
	if code, out := runCmd(t, "once", "--send", "-config", cfg); code != 0 {
		t.Errorf("once --send after the daemon stopped: exit %d:\n%s", code, out)
	}
	l := tally(t, srv.Messages())
	if tw := l.twice(); len(tw) > 0 || l.resent > 0 {
		t.Errorf("alerts in more than one mail: %v; %d resends of a Message-ID", tw, l.resent)
	}
}
