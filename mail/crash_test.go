package mail

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/schoolwatch/schoolwatch/alerts/smtptest"
	"github.com/schoolwatch/schoolwatch/store"
)

// crashDBEnv names the database a re-executed test binary enqueues into
// before it waits to be killed.
const crashDBEnv = "SCHOOLWATCH_MAIL_CRASH_DB"

// TestMain lets the test binary play the process that is killed: with
// crashDBEnv set it enqueues one mail, says so on stdout and blocks.
func TestMain(m *testing.M) {
	if path := os.Getenv(crashDBEnv); path != "" {
		crashChild(path)
		return
	}
	os.Exit(m.Run())
}

func crashChild(path string) {
	st, err := store.Open(context.Background(), path)
	if err != nil {
		os.Stdout.WriteString("error: " + err.Error() + "\n")
		os.Exit(2)
	}
	if err := enqueueOne(st, time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)); err != nil {
		os.Stdout.WriteString("error: " + err.Error() + "\n")
		os.Exit(2)
	}
	os.Stdout.WriteString("queued\n")
	select {} // wait for SIGKILL
}

// TestOutboxSurvivesKill: a process killed with SIGKILL right after it
// enqueued a mail leaves the mail in the store; the next process sends it,
// once.
func TestOutboxSurvivesKill(t *testing.T) {
	if testing.Short() {
		t.Skip("re-executes the test binary")
	}
	path := filepath.Join(t.TempDir(), "sw.db")
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), crashDBEnv+"="+path)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || strings.TrimSpace(line) != "queued" {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("child said %q (%v)", line, err)
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()

	ctx := context.Background()
	srv := smtptest.Start(t)
	st, err := store.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	s := NewSender(st, smtpDeliverer(t, srv), time.Second, time.Minute, nil, nil)
	s.Now = func() time.Time { return time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC) }
	if sent, err := s.Drain(ctx); err != nil || sent != 1 {
		t.Fatalf("drain after kill: %d, %v", sent, err)
	}
	if got := len(srv.Messages()); got != 1 {
		t.Errorf("server accepted %d mails, want 1", got)
	}
}
