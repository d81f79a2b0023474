package daemon

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/schoolwatch/schoolwatch/watchers/jetstreamtest"
)

// streamConfig is the example config with its feeds replaced by one
// Jetstream feed at url, its store and mail in dir.
func streamConfig(t *testing.T, dir, url string) string {
	t.Helper()
	b, err := os.ReadFile("../schoolwatch.example.yml")
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	i, j := strings.Index(s, "\nfeeds:\n"), strings.Index(s, "\n# Rules:")
	if i < 0 || j < i {
		t.Fatal("the example config has no feeds section followed by the rules comment")
	}
	s = s[:i] + "\nfeeds:\n  - { id: bluesky, name: Bluesky, type: jetstream, url: \"" + url + "\" }" + s[j:]
	s = strings.Replace(s, "listen: 127.0.0.1:9464", "listen: 127.0.0.1:0", 1)
	path := filepath.Join(dir, "schoolwatch.yml")
	if err := os.WriteFile(path, []byte(s), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

const (
	didThreat = "did:plc:eygmaihciaxprqvxpfvl6flk"
	didParent = "did:plc:z72i7hdynmk6r22z27h6tvur"
)

func postLink(did, rkey string) string { return "https://bsky.app/profile/" + did + "/post/" + rkey }

// TestJetstreamAlerts runs the daemon in process against a fake Jetstream
// that sends posts, a like, identity, delete and account events and then
// closes the stream. The threatening posts alert their schools' leaders
// with their bsky.app links; the benign post, the like (whatever its
// record says) and the other events do not; the reconnect resumes at or
// before the last event, and the replayed posts do not alert again.
func TestJetstreamAlerts(t *testing.T) {
	t0 := time.Now().Add(-2 * time.Minute).Truncate(time.Millisecond)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	events := []jetstreamtest.Event{
		jetstreamtest.Post(didThreat, "3kthreat1", "Someone says they will bring a knife to Harbourside Academy in Dover tomorrow and stab a teacher", at(0)),
		jetstreamtest.Like(didThreat, "3klike1", "LIKEONLY bring a knife to Harbourside Academy in Dover and stab a teacher", at(10)),
		jetstreamtest.Identity(didParent, "worried.parent.bsky.social", at(20)),
		jetstreamtest.Post(didParent, "3kthreat2", "Going to St Mary's in Folkestone with a gun tomorrow, they will all pay", at(30)),
		jetstreamtest.Post(didParent, "3kbenign1", "Harbourside Academy won the regional football cup, well done", at(40)),
		jetstreamtest.Delete(didThreat, "3kthreat1", at(50)),
		jetstreamtest.Account(didThreat, at(60)),
	}
	last := events[len(events)-1].TimeUS
	marker := jetstreamtest.Post(didThreat, "3kthreat3", "Bomb threat at Harbourside Academy in Dover, kids evacuated", at(70))
	srv := jetstreamtest.NewServer(func(n int, c jetstreamtest.Conn) jetstreamtest.Script {
		if n == 0 {
			return jetstreamtest.Script{Events: events}
		}
		// The replay from the cursor, then one new threat: once it has
		// alerted, everything before it on this connection was handled.
		return jetstreamtest.Script{Events: append(jetstreamtest.From(events, c.Cursor), marker), Hold: true}
	})
	defer srv.Close()

	dir := t.TempDir()
	cfg := streamConfig(t, dir, srv.URL)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Run(ctx, Options{ConfigPath: cfg}) }()
	mailDir := filepath.Join(dir, "var/mail")
	markerLink := postLink(didThreat, "3kthreat3")
	waitFor(t, "the alerts for the post after the reconnect", func() bool {
		n := 0
		for _, m := range readMails(t, mailDir) {
			if strings.Contains(m.Text, markerLink) {
				n++
			}
		}
		return n == 2 // the head and the DSL
	})
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run = %v", err)
	}

	conns := srv.Conns()
	if len(conns) < 2 {
		t.Fatalf("%d connections, want a reconnect", len(conns))
	}
	if q := conns[0].Query; q.Get("wantedCollections") != "app.bsky.feed.post" {
		t.Errorf("subscribed with %v, want wantedCollections=app.bsky.feed.post", q)
	}
	if c := conns[1].Cursor; c == 0 || c > last {
		t.Errorf("reconnect cursor = %d, want at or before the last event %d", c, last)
	}

	mails := readMails(t, mailDir)
	count := map[string]int{} // recipient + link -> mails
	for _, m := range mails {
		if strings.Contains(m.Text, "LIKEONLY") {
			t.Errorf("a like alerted (%s to %s)", m.Subject, m.To)
		}
		for _, rkey := range []string{"3kthreat1", "3kthreat2", "3kthreat3", "3kbenign1"} {
			if strings.Contains(m.Text, postLink(didThreat, rkey)) || strings.Contains(m.Text, postLink(didParent, rkey)) {
				count[m.To+" "+rkey]++
			}
		}
	}
	want := map[string]int{
		"principal@harbourside.example.org 3kthreat1": 1, "dsl@harbourside.example.org 3kthreat1": 1,
		"head@stmarys.example.org 3kthreat2": 1, "dsl@stmarys.example.org 3kthreat2": 1,
		"principal@harbourside.example.org 3kthreat3": 1, "dsl@harbourside.example.org 3kthreat3": 1,
	}
	for k, n := range want {
		if count[k] != n {
			t.Errorf("%s: in %d mails, want %d", k, count[k], n)
		}
	}
	for k, n := range count {
		if want[k] == 0 {
			t.Errorf("%s: in %d mails, want none", k, n)
		}
	}
	for _, m := range mails {
		if strings.Contains(m.Text, postLink(didParent, "3kthreat2")) && !strings.Contains(m.Text, "worried.parent.bsky.social") {
			t.Errorf("the mail to %s does not name the author by the handle the stream carried", m.To)
		}
	}
	if os.Getenv("SHOW_MAIL") != "" && len(mails) > 0 {
		t.Log(mails[0].Text)
	}
	if t.Failed() {
		for _, m := range mails {
			t.Logf("mail to %s: %s", m.To, m.Subject)
		}
	}
}
