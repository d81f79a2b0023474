package blackbox

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/schoolwatch/schoolwatch/alerts/smtptest"
	"github.com/schoolwatch/schoolwatch/store"
)

// pgDSN makes a fresh schema in the Postgres database the PG* variables
// name (pg_virtualenv sets them) and returns a DSN using it; without them
// the test is skipped.
func pgDSN(t *testing.T) string {
	t.Helper()
	if os.Getenv("PGHOST") == "" && os.Getenv("PGDATABASE") == "" {
		t.Skip("no Postgres: PGHOST and PGDATABASE are unset (run under pg_virtualenv)")
	}
	var b [6]byte
	rand.Read(b[:])
	schema := "swbb_" + hex.EncodeToString(b[:])
	admin, err := store.OpenPostgresDB("")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := admin.Exec(`CREATE SCHEMA ` + schema); err != nil {
		admin.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		admin.Exec(`DROP SCHEMA ` + schema + ` CASCADE`)
		admin.Close()
	})
	// libpq keywords: the replicas get the server from the PG* variables
	// too, and the schema from search_path.
	return "search_path=" + schema
}

var storeLine = regexp.MustCompile(`(?m)^store: \{ path: "[^"]*", `)

// TestPostgresReplicasKill9: two `run` replicas on one Postgres database;
// threat posts arrive in waves; one replica is killed with SIGKILL during
// the first wave and restarted, the other during the second, the first
// again during the third, for good (the survivor takes its claims over
// when their lease runs out). Every post
// reaches every leader of its school, and no alert arrives in two distinct
// mails (a resend of one Message-ID, a mail the server accepted just as
// its sender died, is the at-least-once window and is counted).
func TestPostgresReplicasKill9(t *testing.T) {
	dsn := pgDSN(t)
	fs := serveFeeds(t)
	srv := smtptest.Start(t)
	var cfgs [2]string
	var ports [2]int
	for i := range cfgs {
		dir := filepath.Join(t.TempDir(), fmt.Sprint("r", i))
		if err := os.MkdirAll(dir, 0o700); err != nil {
			t.Fatal(err)
		}
		ports[i] = freePort(t)
		y := config{Dir: dir, Port: ports[i], SMTP: srv.Addr, Feeds: []feedConfig{
			{ID: "news", URL: fs.URL + "/news.xml"},
			{ID: "social", URL: fs.URL + "/social.xml"},
		}}.yaml()
		if !storeLine.MatchString(y) {
			t.Fatalf("no store line in\n%s", y)
		}
		y = storeLine.ReplaceAllString(y, fmt.Sprintf("store: { driver: postgres, dsn: %q, ", dsn))
		cfgs[i] = filepath.Join(dir, "schoolwatch.yml")
		if err := os.WriteFile(cfgs[i], []byte(y), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	logs := &logBuffer{}
	var reps [2]*daemon
	for i := range reps {
		reps[i] = start(t, cfgs[i], ports[i], logs)
		reps[i].waitReady()
	}

	want := expect{}
	n := 0
	wave := func(victim int, restart bool) {
		for k := range 6 {
			n++
			school := []string{"oak", "river"}[n%2]
			tk := fmt.Sprintf("TKha-%d", n)
			fs.Add([]string{"/news.xml", "/social.xml"}[n%2], threatItem(school, tk))
			want.add(school, tk)
			if victim >= 0 && k == 3 {
				reps[victim].kill()
				if restart {
					reps[victim] = start(t, cfgs[victim], ports[victim], logs)
				} else {
					reps[victim] = nil
				}
			}
			time.Sleep(150 * time.Millisecond) // the posts arrive over a second, not at once
		}
	}
	wave(0, true)
	wave(1, true)
	wave(0, false) // for good: the survivor takes over its claims

	// A killed replica's claims run out after a minute (store.DefaultLease).
	l := waitMail(t, srv, want, 3*time.Minute)
	if tw := l.twice(); len(tw) > 0 {
		t.Errorf("alerts that arrived in more than one distinct mail: %v", tw)
	}
	if u := l.unexpected(want); len(u) > 0 {
		t.Errorf("unexpected alerts: %v", u)
	}
	for _, d := range reps {
		if d != nil {
			d.stop()
		}
	}
	if strings.Contains(logs.String(), "password=") {
		t.Error("a log line carries the DSN's password")
	}
	t.Logf("%d posts, %d alerts expected, %d mails received, %d resends of a Message-ID already received",
		n, len(want), l.messages, l.resent)
}
