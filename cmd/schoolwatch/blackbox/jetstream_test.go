package blackbox

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/schoolwatch/schoolwatch/alerts/smtptest"
	"github.com/schoolwatch/schoolwatch/watchers/jetstreamtest"
)

// TestJetstreamBinary runs the real binary on a config whose only feed is
// a Bluesky Jetstream (a fake one on 127.0.0.1). The threatening post
// alerts the school's leaders with its bsky.app link; the like carrying the
// same words, the identity, delete and account events and the post about
// nothing alert nobody. After SIGTERM and a restart the stream resumes from
// the cursor the store kept (a few seconds before the last event), the
// replay alerts nothing twice, and a new post alerts.
func TestJetstreamBinary(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	srv := smtptest.Start(t)
	port := freePort(t)
	const (
		did  = "did:plc:eygmaihciaxprqvxpfvl6flk"
		did2 = "did:plc:z72i7hdynmk6r22z27h6tvur"
	)
	t0 := time.Now().Add(-time.Minute).Truncate(time.Millisecond)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	events := []jetstreamtest.Event{
		jetstreamtest.Post(did, "3kjs1", "Someone wrote that they will bring a knife to Oakfield Primary School tomorrow. TKjs-1", at(0)),
		jetstreamtest.Like(did2, "3kjs2", "they will bring a knife to Riverside Academy tomorrow TKjs-2", at(10)),
		jetstreamtest.Identity(did2, "someone.bsky.social", at(20)),
		jetstreamtest.Post(did2, "3kjs3", "Lovely sunset over Dover harbour TKjs-3", at(30)),
		jetstreamtest.Delete(did, "3kjs1", at(40)),
		jetstreamtest.Account(did, at(50)),
	}
	last := events[len(events)-1].TimeUS
	later := jetstreamtest.Post(did2, "3kjs4", "A threat to hurt staff at Riverside Academy was posted. TKjs-4", at(60))
	js := jetstreamtest.NewServer(func(n int, c jetstreamtest.Conn) jetstreamtest.Script {
		if n == 0 {
			return jetstreamtest.Script{Events: events, Hold: true}
		}
		return jetstreamtest.Script{Events: append(jetstreamtest.From(events, c.Cursor), later), Hold: true}
	})
	t.Cleanup(js.Close)

	c := config{Dir: dir, Port: port, SMTP: srv.Addr}
	y := strings.Replace(c.yaml(), "\nfeeds:\n", "\nfeeds:\n  - { id: bluesky, name: Bluesky, type: jetstream, url: \""+js.URL+"\" }\n", 1)
	cfg := c.write(t)
	if err := os.WriteFile(cfg, []byte(y), 0o600); err != nil {
		t.Fatal(err)
	}

	d := start(t, cfg, port, nil)
	d.waitReady()
	first := expect{}
	first.add("oak", "TKjs-1")
	waitMail(t, srv, first, 30*time.Second)
	eventually(t, 10*time.Second, "every event to be read", func() bool {
		return d.metric("schoolwatch_stream_events_total", `feed="bluesky"`) >= float64(len(events))
	})
	d.stop()
	if conns := js.Conns(); len(conns) != 1 || conns[0].Query.Get("wantedCollections") != "app.bsky.feed.post" {
		t.Fatalf("connections before the restart: %+v", conns)
	}

	d = start(t, cfg, port, nil)
	d.waitReady()
	all := expect{}
	all.add("oak", "TKjs-1")
	all.add("river", "TKjs-4")
	l := waitMail(t, srv, all, 30*time.Second)
	d.stop()

	conns := js.Conns()
	if len(conns) != 2 {
		t.Fatalf("%d connections, want one per start", len(conns))
	}
	if cur := conns[1].Cursor; cur == 0 || cur > last || cur < last-(5*time.Second).Microseconds() {
		t.Errorf("the restarted stream resumed at cursor %d, want at or a few seconds before the last event %d", cur, last)
	}
	if dup := l.twice(); len(dup) > 0 {
		t.Errorf("alerted twice: %v", dup)
	}
	if extra := l.unexpected(all); len(extra) > 0 {
		t.Errorf("unexpected alerts: %v", extra)
	}
	for _, m := range srv.Messages() {
		r := decode(t, m)
		if strings.Contains(r.Text, "TKjs-1") && !strings.Contains(r.Text, "https://bsky.app/profile/"+did+"/post/3kjs1") {
			t.Errorf("the alert to %s lacks the post's bsky.app link", r.To)
		}
	}
}
