package daemon

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/schoolwatch/schoolwatch/alerts/smtptest"
	"github.com/schoolwatch/schoolwatch/store"
)

// pgSchemaDSN makes a fresh schema in the Postgres database the PG*
// variables name (pg_virtualenv sets them) and returns a DSN using it;
// without them the test is skipped.
func pgSchemaDSN(t *testing.T) string {
	t.Helper()
	if os.Getenv("PGHOST") == "" && os.Getenv("PGDATABASE") == "" {
		t.Skip("no Postgres: PGHOST and PGDATABASE are unset (run under pg_virtualenv)")
	}
	var b [6]byte
	rand.Read(b[:])
	schema := "swtest_" + hex.EncodeToString(b[:])
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
	return "search_path=" + schema
}

// threatFeed serves an RSS feed of the first n threat posts, each with its
// own token.
type threatFeed struct{ n atomic.Int64 }

func token(i int) string { return fmt.Sprintf("WAVETOKEN%03d", i) }

func (f *threatFeed) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>Threats</title><link>https://t.example.org/</link><description>x</description>`)
	for i := range int(f.n.Load()) {
		fmt.Fprintf(&b, `<item><title>Warning to parents in Folkestone %d</title><link>https://t.example.org/p/%d</link><guid isPermaLink="false">threat-%d</guid><pubDate>%s</pubDate>`+
			`<description>Someone in the #StMarysFolkestone group says they are going to hurt a teacher at pick-up tomorrow. Ref %s.</description></item>`,
			i, i, i, time.Now().UTC().Format(time.RFC1123Z), token(i))
	}
	b.WriteString(`</channel></rss>`)
	w.Header().Set("Content-Type", "application/rss+xml")
	w.Write([]byte(b.String()))
}

// replicaConfig writes the example config for one replica: the threat
// feed (twice, as two feeds) polled every second, the shared Postgres
// store and SMTP server, and an outbox looked at every second (retry max),
// so both replicas' senders race for every mail.
func replicaConfig(t *testing.T, dir, feedURL, dsn string, smtpPort int) string {
	t.Helper()
	b, err := os.ReadFile("../schoolwatch.example.yml")
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	for _, r := range [][2]string{
		{"  path: var/schoolwatch.db\n", "  driver: postgres\n  dsn: \"" + dsn + "\"\n"},
		{"file://examples/feeds/local-news.xml", feedURL},
		{"file://examples/feeds/community.atom", feedURL},
		{"listen: 127.0.0.1:9464", "listen: 127.0.0.1:0"},
		{"  dir: var/mail\n", fmt.Sprintf("  smtp: { host: 127.0.0.1, port: %d, tls: none }\n", smtpPort)},
		{"retry: { initial: 5s, max: 10m }", "retry: { initial: 1s, max: 1s }"},
		{`schedule: "@every 1m"`, `schedule: "@every 1s"`},
		{"jitter: 5m", "jitter: 0s"},
	} {
		if !strings.Contains(s, r[0]) {
			t.Fatalf("example config has no %q", r[0])
		}
		s = strings.ReplaceAll(s, r[0], r[1])
	}
	path := filepath.Join(dir, "schoolwatch.yml")
	if err := os.WriteFile(path, []byte(s), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestPostgresReplicasMailOnce runs two daemons on one Postgres store.
// Threat posts arrive in waves; one replica is stopped after the second
// wave. Every post reaches the head exactly once, from one replica or the
// other.
func TestPostgresReplicasMailOnce(t *testing.T) {
	dsn := pgSchemaDSN(t)
	feed := &threatFeed{}
	srv := httptest.NewServer(feed)
	defer srv.Close()
	// A slow server: each delivery takes a while, so a replica that
	// looked at the outbox while the other was sending would send too.
	smtpSrv := smtptest.StartWith(t, smtptest.Options{BeforeData: func() { time.Sleep(300 * time.Millisecond) }})

	type replica struct {
		dir    string
		reg    *prometheus.Registry
		cancel context.CancelFunc
		done   chan error
	}
	var reps []*replica
	for i := range 2 {
		dir := filepath.Join(t.TempDir(), fmt.Sprint("r", i))
		if err := os.MkdirAll(dir, 0o700); err != nil {
			t.Fatal(err)
		}
		cfg := replicaConfig(t, dir, srv.URL+"/threats.rss", dsn, smtpSrv.Port())
		ctx, cancel := context.WithCancel(context.Background())
		r := &replica{dir: dir, cancel: cancel, done: make(chan error, 1), reg: prometheus.NewRegistry()}
		ready := make(chan struct{})
		go func() {
			r.done <- Run(ctx, Options{ConfigPath: cfg, Version: "test", Registerer: r.reg, Gatherer: r.reg, Ready: func(string) { close(ready) }})
		}()
		select {
		case <-ready:
		case err := <-r.done:
			t.Fatalf("replica %d: Run returned before it was ready: %v", i, err)
		case <-time.After(30 * time.Second):
			t.Fatalf("replica %d not ready", i)
		}
		reps = append(reps, r)
	}
	// The first replica took the leader lock; the second did not.
	if a, b := leaderValue(t, reps[0].reg), leaderValue(t, reps[1].reg); a != 1 || b != 0 {
		t.Errorf("schoolwatch_store_leader = %v and %v, want 1 and 0", a, b)
	}
	var stopOnce sync.Once
	stop := func(r *replica) {
		r.cancel()
		select {
		case err := <-r.done:
			if err != nil {
				t.Errorf("Run after cancel = %v", err)
			}
		case <-time.After(60 * time.Second):
			t.Error("Run did not return after its context ended")
		}
	}
	defer func() {
		for i, r := range reps {
			if i == 0 {
				stopOnce.Do(func() { stop(r) })
				continue
			}
			stop(r)
		}
	}()

	const head = "head@stmarys.example.org"
	// counts returns, for each token, how many mails to the head carry it.
	counts := func() map[string]int {
		c := map[string]int{}
		for _, m := range smtpSrv.Messages() {
			if !slices.Contains(m.To, head) {
				continue
			}
			pm, err := m.Parse()
			if err != nil {
				t.Fatal(err)
			}
			text := textPart(pm.Header.Get("Content-Type"), pm.Header.Get("Content-Transfer-Encoding"), pm.Body)
			for i := range int(feed.n.Load()) {
				if strings.Contains(text, token(i)) {
					c[token(i)]++
				}
			}
		}
		return c
	}
	const waves, per = 4, 5
	for w := range waves {
		feed.n.Add(per)
		n := int(feed.n.Load())
		waitFor(t, fmt.Sprintf("wave %d's mails", w+1), func() bool {
			c := counts()
			for i := range n {
				if c[token(i)] == 0 {
					return false
				}
			}
			return true
		})
		if w == 1 {
			stopOnce.Do(func() { stop(reps[0]) })
		}
	}
	c := counts()
	for i := range waves * per {
		if c[token(i)] != 1 {
			t.Errorf("post %d mailed %d times to the head, want exactly once", i, c[token(i)])
		}
	}
	// And no mail went twice, to anyone: each Message-ID and recipient
	// once.
	seen := map[string]bool{}
	for _, m := range smtpSrv.Messages() {
		pm, err := m.Parse()
		if err != nil {
			t.Fatal(err)
		}
		k := pm.Header.Get("Message-Id") + " " + strings.Join(m.To, ",")
		if seen[k] {
			t.Errorf("mail %s sent twice", k)
		}
		seen[k] = true
	}
	// The survivor took the leader lock over.
	waitFor(t, "replica 1 to lead", func() bool { return leaderValue(t, reps[1].reg) == 1 })
	t.Logf("%d mails accepted by the SMTP server", smtpSrv.Count())
}

// leaderValue is schoolwatch_store_leader in reg (-1 if absent).
func leaderValue(t *testing.T, reg *prometheus.Registry) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == "schoolwatch_store_leader" && len(mf.GetMetric()) == 1 {
			return mf.GetMetric()[0].GetGauge().GetValue()
		}
	}
	return -1
}
