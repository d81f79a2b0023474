package blackbox

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	_ "modernc.org/sqlite"

	"github.com/schoolwatch/schoolwatch/alerts/smtptest"
	"github.com/schoolwatch/schoolwatch/store"
)

// rawItem is an RSS item written as given: fields left empty are left out
// (no <guid> when guid is empty).
func rawItem(guid, title, text, link, author string) item {
	var b strings.Builder
	b.WriteString("<item>")
	if guid != "" {
		b.WriteString(`<guid isPermaLink="false">` + esc(guid) + "</guid>")
	}
	b.WriteString("<title>" + esc(title) + "</title>")
	if link != "" {
		b.WriteString("<link>" + esc(link) + "</link>")
	}
	if author != "" {
		b.WriteString("<author>" + esc(author) + "</author>")
	}
	b.WriteString("<description>" + esc(text) + "</description><pubDate>" + time.Now().UTC().Format(time.RFC1123Z) + "</pubDate></item>")
	return item{raw: b.String()}
}

// swappable serves a body that a test replaces, always with the same ETag
// whatever the request asks (a server that ignores If-None-Match).
type swappable struct {
	mu   sync.Mutex
	ct   string
	body string
}

func (s *swappable) set(body string) { s.mu.Lock(); s.body = body; s.mu.Unlock() }

func (s *swappable) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	body := s.body
	s.mu.Unlock()
	w.Header().Set("Content-Type", s.ct)
	w.Header().Set("ETag", `"v1"`)
	io.WriteString(w, body)
}

// TestHostileInputs covers the adversarial review's findings on feed input
// (issue 13), against the real binary:
//
//   - F3: posts without GUIDs that all link to one forum page, and a new GUID
//     on a link an old item used, are new posts and alert;
//   - F4: a post edited into a threat under its GUID alerts once, and a
//     further edit with the same finding does not alert again;
//   - F8, F19: one invalid UTF-8 byte, an &#27; reference, or a JSON Feed
//     field of the wrong type costs nothing else: the threat next to it
//     alerts, and the repair is logged and counted;
//   - F10: bidi controls from the feed do not reach the mail;
//   - F16: a server sending the same ETag with new content is read;
//   - F17: a next poll time stored far ahead (a clock stepped back since)
//     does not hold the feed back;
//   - F21: a feed on a private address (127.0.0.1) may redirect within it.
func TestHostileInputs(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	fs := serveFeeds(t)
	srv := smtptest.Start(t)
	port := freePort(t)
	const oak = "Oakfield Primary School"
	want := expect{}

	fs.Add("/control.xml", threatItem("river", "TKctl-1"))
	want.add("river", "TKctl-1")
	// F3.
	forum1 := rawItem("", "Parents evening at "+oak, "See you all there TKforum-1", "https://forum.example.org/", "")
	forum2 := rawItem("", "Re: Parents evening", "I will bring a knife to "+oak+" TKforum-2", "https://forum.example.org/", "")
	fs.Set("/forum.xml", forum1)
	rot1 := item{GUID: "c-1", Title: "Summer fete at " + oak, Text: "Cakes and games TKrot-1", Link: "https://news.example.org/l"}
	rot2 := item{GUID: "c-2", Title: oak, Text: "I will bring a knife TKrot-2", Link: "https://news.example.org/l"}
	fs.Set("/rotated.xml", rot1)
	// F4.
	edit := func(text string) item {
		return item{GUID: "post-77", Title: oak, Text: text, Link: "https://forum.example.org/77"}
	}
	fs.Set("/edit.xml", edit("Parents evening on Thursday TKedit-0"))
	// F8, F19, F10.
	fs.Handle("/bad-utf8.xml", text("application/rss+xml", `<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>x</title>`+
		"<item><guid>cat</guid><title>Lost cat \x93Tom\x94</title></item>"+threatItemXML("oak", "TKutf-1")+`</channel></rss>`))
	fs.Handle("/ctl-ref.xml", text("application/rss+xml", `<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>x</title>`+
		"<item><guid>esc</guid><title>Escape &#27;[2J here</title></item>"+threatItemXML("oak", "TKref-1")+`</channel></rss>`))
	fs.Handle("/feed.json", text("application/feed+json", `{"version":"https://jsonfeed.org/version/1.1","title":"j","items":[`+
		`{"id":"cat","url":5,"authors":"bob","title":"Lost cat"},`+
		`{"id":"t","url":"https://news.example.org/json","title":"`+oak+` TKjson-1","content_text":"I will bring a knife to `+oak+` TKjson-1"}]}`))
	fs.Set("/bidi.xml", rawItem("bidi-1", oak+" \u202eefink\u202c TKbidi-1", "I will bring a knife \u2066here\u2069 TKbidi-1", "https://news.example.org/bidi", "Mr \u202e25:11 8202 naJ 1 noM"))
	for _, tk := range []string{"TKutf-1", "TKref-1", "TKjson-1", "TKbidi-1"} {
		want.add("oak", tk)
	}
	// F16.
	etag := &swappable{ct: "application/rss+xml", body: rss([]item{{GUID: "e-1", Title: "Sports day at " + oak, Text: "Sunny TKetag-0"}})}
	fs.Handle("/etag.xml", etag)
	// F21: a second server on 127.0.0.1, reached by a redirect.
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, rss([]item{threatItem("river", "TKredir-1")}))
	}))
	t.Cleanup(other.Close)
	fs.Handle("/moved.xml", http.RedirectHandler(other.URL+"/feed.xml", http.StatusMovedPermanently))
	want.add("river", "TKredir-1")
	// F17: the store says not to poll this feed for six hours.
	fs.Set("/stalled.xml", threatItem("oak", "TKstall-1"))
	want.add("oak", "TKstall-1")
	st, err := store.Open(context.Background(), filepath.Join(dir, "sw.db"))
	if err != nil {
		t.Fatal(err)
	}
	if err := st.PutFeedState(ctx(t), store.FeedState{FeedID: "stalled", Failures: 1, FailingSince: time.Now(), NextPoll: time.Now().Add(6 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	st.Close()

	c := config{Dir: dir, Port: port, SMTP: srv.Addr}
	for _, id := range []string{"control", "forum", "rotated", "edit", "bad-utf8", "ctl-ref", "bidi", "etag", "moved", "stalled"} {
		c.Feeds = append(c.Feeds, feedConfig{ID: id, URL: fs.URL + "/" + id + ".xml"})
	}
	c.Feeds = append(c.Feeds, feedConfig{ID: "json", URL: fs.URL + "/feed.json"})
	d := start(t, c.write(t), port, nil)
	d.waitReady()
	waitMail(t, srv, want, 30*time.Second)
	for _, id := range []string{"forum", "rotated", "edit", "etag"} {
		eventually(t, 20*time.Second, id+"'s first version recorded", func() bool {
			return d.metric("schoolwatch_polls_total", `feed="`+id+`"`, `result="ok"`) >= 1
		})
	}

	// The new versions.
	fs.Set("/forum.xml", forum2, forum1)
	want.add("oak", "TKforum-2")
	fs.Set("/rotated.xml", rot2)
	want.add("oak", "TKrot-2")
	fs.Set("/edit.xml", edit("I will bring a knife and hurt someone TKedit-1"))
	want.add("oak", "TKedit-1")
	etag.set(rss([]item{threatItem("oak", "TKetag-1")}))
	want.add("oak", "TKetag-1")
	waitMail(t, srv, want, 30*time.Second)

	// Edited again, with the same finding: nothing more. Once a poll has
	// read it, a new control item makes sure anything it queued was sent.
	okPolls := d.metric("schoolwatch_polls_total", `feed="edit"`, `result="ok"`)
	fs.Set("/edit.xml", edit("I will bring a knife and hurt someone. I mean it TKedit-2"))
	eventually(t, 20*time.Second, "a poll of the edit feed's third version", func() bool {
		return d.metric("schoolwatch_polls_total", `feed="edit"`, `result="ok"`) > okPolls
	})
	fs.Add("/control.xml", threatItem("river", "TKctl-2"))
	want.add("river", "TKctl-2")
	waitMail(t, srv, want, 30*time.Second)
	eventually(t, 10*time.Second, "an empty outbox", func() bool { return d.metric("schoolwatch_outbox_depth") == 0 })

	for feed, kind := range map[string]string{"bad-utf8": "invalid_utf8", "ctl-ref": "char_ref", "json": "json_field"} {
		if d.metric("schoolwatch_feed_repairs_total", `feed="`+feed+`"`, `kind="`+kind+`"`) < 1 {
			t.Errorf("feed %s: no %s repair in schoolwatch_feed_repairs_total", feed, kind)
		}
		if !strings.Contains(d.log.String(), "feed="+feed) || !strings.Contains(d.log.String(), "feed document repaired") {
			t.Errorf("feed %s: the repair is not logged", feed)
		}
	}
	for _, id := range []string{"bad-utf8", "ctl-ref", "json", "bidi", "stalled"} {
		if n := d.metric("schoolwatch_polls_total", `feed="`+id+`"`, `result="error"`); n != 0 {
			t.Errorf("feed %s: %v failed polls", id, n)
		}
	}
	d.stop()

	l := tally(t, srv.Messages())
	if tw := l.twice(); len(tw) > 0 || l.resent > 0 {
		t.Errorf("duplicates (an edit alerting again?): %v, %d resends", tw, l.resent)
	}
	if u := l.unexpected(want); len(u) > 0 {
		t.Errorf("unexpected alerts: %v", u)
	}
	for _, m := range srv.Messages() {
		r := decode(t, m)
		for _, bidi := range []string{"\u202e", "\u202c", "\u2066", "\u2069"} {
			if strings.Contains(r.Text, bidi) || strings.Contains(r.HTML, bidi) || strings.Contains(r.Subject, bidi) {
				t.Errorf("mail to %s carries bidi control %U", r.To, []rune(bidi)[0])
			}
		}
		if strings.Contains(r.Text, "\x1b") || strings.Contains(r.HTML, "\x1b") {
			t.Errorf("mail to %s carries an escape character", r.To)
		}
	}
	assertPrivateLogs(t, d.log.String(), "bring a knife", "Lost cat", "Parents evening")
}

// threatItemXML is threatItem as an RSS <item> element.
func threatItemXML(school, token string) string {
	head := strings.TrimSuffix(rss(nil), "</channel></rss>")
	return strings.TrimSuffix(strings.TrimPrefix(rss([]item{threatItem(school, token)}), head), "</channel></rss>")
}

// emptyEntries is a 10 MiB Atom document of 1.3 million empty entries (the
// adversarial review's F5).
func emptyEntries() []byte {
	var b bytes.Buffer
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?><feed xmlns="http://www.w3.org/2005/Atom"><title>x</title>`)
	for range 1_300_000 {
		b.WriteString("<entry/>")
	}
	b.WriteString("</feed>")
	return b.Bytes()
}

// TestManyEntriesBoundedMemory polls four 10 MiB documents of 1.3 million
// empty entries at once, next to a feed that churns 5,000 fresh GUIDs per
// poll and a good feed: peak RSS stays under maxRSS (it reached 5.9 GiB
// before entries were capped), each truncation is counted and noted in the
// feed's state, the good feed alerts, and the churning feed adds at most
// max_items rows to the store per poll.
func TestManyEntriesBoundedMemory(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	fs := serveFeeds(t)
	srv := smtptest.Start(t)
	port := freePort(t)
	huge := emptyEntries()
	for i := range 4 {
		fs.Handle(fmt.Sprintf("/huge%d.xml", i), http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/atom+xml")
			w.Write(huge)
		}))
	}
	var churned atomic.Int64
	fs.Handle("/churn.xml", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := churned.Add(1)
		its := make([]item, 5000)
		for i := range its {
			its[i] = item{GUID: fmt.Sprintf("churn-%d-%d", n, i), Title: "Notice", Text: "Bins on Tuesday"}
		}
		io.WriteString(w, rss(its))
	}))
	fs.Add("/good.xml", threatItem("oak", "TKgood-1"))
	want := expect{}
	want.add("oak", "TKgood-1")

	c := config{Dir: dir, Port: port, SMTP: srv.Addr, Feeds: []feedConfig{{ID: "good", URL: fs.URL + "/good.xml"}, {ID: "churn", URL: fs.URL + "/churn.xml"}}}
	for i := range 4 {
		c.Feeds = append(c.Feeds, feedConfig{ID: fmt.Sprintf("huge%d", i), URL: fmt.Sprintf("%s/huge%d.xml", fs.URL, i), Timeout: "20s"})
	}
	d := start(t, c.write(t), port, nil)
	d.waitReady()
	waitMail(t, srv, want, 60*time.Second)
	for i := range 4 {
		id := fmt.Sprintf("huge%d", i)
		eventually(t, 60*time.Second, id+"'s truncation in the metrics", func() bool {
			return d.metric("schoolwatch_feed_items_truncated_total", `feed="`+id+`"`) >= 1
		})
	}
	eventually(t, 60*time.Second, "three polls of the churning feed", func() bool {
		return d.metric("schoolwatch_polls_total", `feed="churn"`, `result="ok"`) >= 3
	})
	peak := d.peakRSS()
	if peak > maxRSS || peak < 0 {
		t.Errorf("peak RSS %d MiB, want under %d MiB", peak>>20, maxRSS>>20)
	} else {
		t.Logf("peak RSS %d MiB with four 1.3M-entry documents", peak>>20)
	}
	d.stop()

	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "sw.db")+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var rows int64
	if err := db.QueryRow(`SELECT COUNT(*) FROM seen_items WHERE feed_id = 'churn'`).Scan(&rows); err != nil {
		t.Fatal(err)
	}
	if served := churned.Load(); rows == 0 || rows > served*1000 {
		t.Errorf("the churning feed added %d rows in %d polls; want at most 1,000 a poll", rows, served)
	}
	for i := range 4 {
		var class, lastErr string
		if err := db.QueryRow(`SELECT error_class, last_error FROM feed_state WHERE feed_id = ?`, fmt.Sprintf("huge%d", i)).Scan(&class, &lastErr); err != nil {
			t.Fatal(err)
		}
		if class != "truncated" || !strings.Contains(lastErr, "1300000 entries") {
			t.Errorf("huge%d: state %q %q, want the truncation noted", i, class, lastErr)
		}
	}
}
