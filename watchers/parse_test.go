package watchers

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// counter reads a counter's value.
func counter(c prometheus.Counter) float64 {
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		panic(err)
	}
	return m.GetCounter().GetValue()
}

func TestCapEntries(t *testing.T) {
	atom := func(body string) string {
		return `<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom">` + body + `</feed>`
	}
	rss := func(body string) string {
		return `<rss version="2.0"><channel><title>t</title>` + body + `</channel></rss>`
	}
	tests := []struct {
		name, doc string
		max       int
		want      string // the document after the cut; "" means unchanged
		entries   int
	}{
		{"few tags: not even counted", rss("<item/><item/>"), 20, "", 0},
		{"self-closing entries", atom(strings.Repeat("<entry/>", 5)), 2, atom("<entry/><entry/>"), 5},
		{"entries with children", rss(strings.Repeat("<item><title>x</title></item>", 4)), 3, rss(strings.Repeat("<item><title>x</title></item>", 3)), 4},
		{"exactly max", rss(strings.Repeat("<item><title>x</title></item>", 3)), 3, "", 3},
		{"markup inside CDATA, comments and attributes is text",
			rss(`<!-- <item/><item/> --><item><description><![CDATA[<item></item><item/>]]></description></item><item a="<item/>" b='>'/><x:item/><ITEM/>`), 2,
			rss(`<!-- <item/><item/> --><item><description><![CDATA[<item></item><item/>]]></description></item><item a="<item/>" b='>'/>`), 4},
		{"entries nested in an entry count once", atom(`<entry><entry/><media:item/></entry><entry/><entry/>`), 1, atom(`<entry><entry/><media:item/></entry>`), 3},
		{"a doctype with an internal subset", `<!DOCTYPE rss [<!ENTITY x "<item/>">]>` + rss("<item/><item/><item/>"), 1, `<!DOCTYPE rss [<!ENTITY x "<item/>">]>` + rss("<item/>"), 3},
		{"RDF", `<rdf:RDF xmlns:rdf="r" xmlns="http://purl.org/rss/1.0/"><channel/><item/><item/><item/></rdf:RDF>`, 2, `<rdf:RDF xmlns:rdf="r" xmlns="http://purl.org/rss/1.0/"><channel/><item/><item/></rdf:RDF>`, 3},
		{"an unterminated tag stops the count", rss(`<item/><item/><item/><item a="`), 2, rss(`<item/><item/>`), 3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, n := capEntries([]byte(tc.doc), tc.max)
			want := tc.want
			if want == "" {
				want = tc.doc
			}
			if string(out) != want || n != tc.entries {
				t.Errorf("capEntries = %q, %d\nwant          %q, %d", out, n, want, tc.entries)
			}
		})
	}
}

// hugeAtom is a 10 MiB Atom document of n empty entries (the adversarial
// review's F5).
func hugeAtom(n int) []byte {
	var b bytes.Buffer
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?><feed xmlns="http://www.w3.org/2005/Atom"><title>x</title>`)
	for range n {
		b.WriteString("<entry/>")
	}
	b.WriteString("</feed>")
	return b.Bytes()
}

// TestManyEntriesCostLittle parses a 10 MiB document of 1.3 million empty
// entries: only max_items of them are built, and the parse allocates a
// small multiple of the document, not the gigabyte gofeed spends on all.
func TestManyEntriesCostLittle(t *testing.T) {
	doc := hugeAtom(1_300_000)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	parsed, rep, err := parse(&Response{Body: doc}, 1000)
	runtime.ReadMemStats(&after)
	if err != nil {
		t.Fatal(err)
	}
	if len(parsed.Items) != 1000 || !rep.Truncated || rep.Entries != 1_300_000 {
		t.Errorf("%d items, truncated %v, %d entries; want 1000 of 1,300,000", len(parsed.Items), rep.Truncated, rep.Entries)
	}
	alloc := after.TotalAlloc - before.TotalAlloc
	t.Logf("document %d MiB, allocated %.1f MiB to parse it", len(doc)>>20, float64(alloc)/(1<<20))
	if alloc > 64<<20 {
		t.Errorf("allocated %d MiB to parse a %d MiB document", alloc>>20, len(doc)>>20)
	}

	// JSON Feed: a million empty items.
	var js bytes.Buffer
	js.WriteString(`{"version":"https://jsonfeed.org/version/1.1","title":"x","items":[`)
	for i := range 1_000_000 {
		if i > 0 {
			js.WriteByte(',')
		}
		js.WriteString("{}")
	}
	js.WriteString(`]}`)
	runtime.GC()
	runtime.ReadMemStats(&before)
	parsed, rep, err = parse(&Response{Body: js.Bytes()}, 1000)
	runtime.ReadMemStats(&after)
	if err != nil {
		t.Fatal(err)
	}
	if len(parsed.Items) != 1000 || !rep.Truncated || rep.Entries != 1_000_000 {
		t.Errorf("JSON: %d items, truncated %v, %d entries; want 1000 of 1,000,000", len(parsed.Items), rep.Truncated, rep.Entries)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 64<<20 {
		t.Errorf("JSON: allocated %d MiB to parse a %d MiB document", alloc>>20, js.Len()>>20)
	}
}

// TestMaxItemsPerPoll: a feed's poll reads at most its max_items entries,
// and says so in its result, its state, the log and the metrics.
func TestMaxItemsPerPoll(t *testing.T) {
	var items []rssItem
	for i := range 500 {
		items = append(items, rssItem{GUID: fmt.Sprint(i), Title: fmt.Sprint("post ", i)})
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(rssDoc(items...)))
	}))
	defer srv.Close()
	st := openStore(t, t.TempDir())
	p, sink := newPoller(st, &fakeClock{t: t0})
	var logs bytes.Buffer
	p.Log = slog.New(slog.NewTextHandler(&logs, nil))
	reg := prometheus.NewRegistry()
	p.Metrics = NewMetrics(reg)
	f := testFeed("big", srv.URL)
	f.MaxItems = 100
	r := p.Poll(context.Background(), f)
	if r.Err != nil || r.Items != 100 || r.New != 100 || !r.Truncated || r.Entries != 500 {
		t.Fatalf("poll = %+v, want 100 of 500 entries read", r)
	}
	if got := sink.newItems(); got[0].Title != "post 0" || got[99].Title != "post 99" {
		t.Errorf("kept %q..%q, want the first 100", got[0].Title, got[99].Title)
	}
	fs, _ := p.State(context.Background(), "big")
	if fs.ErrorClass != NoteTruncated || !strings.Contains(fs.LastError, "500 entries") || fs.Failures != 0 {
		t.Errorf("state: class %q error %q failures %d", fs.ErrorClass, fs.LastError, fs.Failures)
	}
	if n := counter(p.Metrics.truncations.WithLabelValues("big")); n != 1 {
		t.Errorf("truncations = %v, want 1", n)
	}
	if n := strings.Count(logs.String(), "feed document truncated"); n != 1 || !strings.Contains(logs.String(), "feed=big") {
		t.Errorf("log:\n%s", logs.String())
	}
	// Polled again unchanged, it is still reported truncated.
	if r := p.Poll(context.Background(), f); !r.NotModified {
		t.Fatalf("second poll = %+v", r)
	}
	if fs, _ := p.State(context.Background(), "big"); fs.ErrorClass != NoteTruncated {
		t.Errorf("the note went after an unchanged poll: %+v", fs)
	}
}

// TestOneBadByteDoesNotLoseTheFeed serves documents with one bad byte,
// reference or field next to a threat: the threat is still read, the
// repair is logged once per poll and counted.
func TestOneBadByteDoesNotLoseTheFeed(t *testing.T) {
	const threat = "<item><guid>t</guid><title>I will bring a knife</title></item>"
	rssWith := func(bad string) string {
		return `<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>x</title><item><guid>c</guid><title>Lost cat ` + bad + `</title></item>` + threat + `</channel></rss>`
	}
	tests := []struct {
		name, doc string
		kinds     []string
		title     string // the bad item's title as read; "" to skip
		dropped   bool   // the bad item is lost, not just repaired
	}{
		{"a stray Windows-1252 quote", rssWith("\x93Tom\x94"), []string{RepairInvalidUTF8}, "Lost cat \uFFFDTom\uFFFD", false},
		{"an escape reference", rssWith("&#27;[31m"), []string{RepairCharRef}, "Lost cat [31m", false},
		{"references to NUL, a surrogate and past Unicode", rssWith("a&#0;b&#xD800;c&#x110000;d&#99999999999999999999;"), []string{RepairCharRef}, "Lost cat abcd", false},
		{"raw control characters and U+FFFE", rssWith("a\x1b\x00b\uFFFEc"), []string{RepairControl}, "Lost cat abc", false},
		{"all at once", rssWith("\xff&#8;\x01"), []string{RepairInvalidUTF8, RepairCharRef, RepairControl}, "", false},
		{"Atom", `<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><entry><id>c</id><title>a &#27; b` + "\x92" + `</title></entry><entry><id>t</id><title>I will bring a knife</title></entry></feed>`, []string{RepairCharRef, RepairInvalidUTF8}, "", false},
		{"JSON Feed: a number for a URL, a string for authors, an item that is not an object",
			`{"version":"https://jsonfeed.org/version/1.1","title":"x","items":[{"id":"c","url":5,"authors":"bob","title":"Lost cat"},7,{"id":"t","title":"I will bring a knife"}]}`,
			[]string{RepairJSONField, RepairJSONItem}, "Lost cat", false},
		{"JSON Feed: a null item", `{"version":"https://jsonfeed.org/version/1.1","items":[null,{"id":"t","title":"I will bring a knife"}]}`, []string{RepairJSONItem}, "", true},
		{"JSON Feed: invalid UTF-8", `{"version":"https://jsonfeed.org/version/1.1","items":[{"id":"c","title":"Lost cat ` + "\x93" + `"},{"id":"t","title":"I will bring a knife"}]}`, []string{RepairInvalidUTF8}, "Lost cat \uFFFD", false},
		{"Latin-1 is not UTF-8: nothing to repair", `<?xml version="1.0" encoding="ISO-8859-1"?><rss version="2.0"><channel><item><guid>c</guid><title>Lost cat ` + "caf\xe9" + `</title></item>` + threat + `</channel></rss>`, nil, "Lost cat café", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Write([]byte(tc.doc))
			}))
			defer srv.Close()
			st := openStore(t, t.TempDir())
			p, sink := newPoller(st, &fakeClock{t: t0})
			var logs bytes.Buffer
			p.Log = slog.New(slog.NewTextHandler(&logs, nil))
			p.Metrics = NewMetrics(prometheus.NewRegistry())
			r := p.Poll(context.Background(), testFeed("f", srv.URL))
			if r.Err != nil {
				t.Fatalf("poll failed: %v", r.Err)
			}
			var titles []string
			for _, it := range sink.newItems() {
				titles = append(titles, it.Title)
			}
			want := 2
			if tc.dropped {
				want = 1
			}
			if len(titles) != want || titles[want-1] != "I will bring a knife" || tc.title != "" && titles[0] != tc.title {
				t.Errorf("items %q, want the bad one (%q) and the threat", titles, tc.title)
			}
			for _, k := range RepairKinds {
				want := 0.0
				for _, w := range tc.kinds {
					if w == k {
						want = 1
					}
				}
				if got := counter(p.Metrics.repairs.WithLabelValues("f", k)); got != want {
					t.Errorf("repairs{kind=%s} = %v, want %v", k, got, want)
				}
			}
			if n := strings.Count(logs.String(), "feed document repaired"); n != min(len(tc.kinds), 1) {
				t.Errorf("%d repair log lines, want %d:\n%s", n, min(len(tc.kinds), 1), logs.String())
			}
			if strings.Contains(logs.String(), "knife") || strings.Contains(logs.String(), "Lost cat") {
				t.Errorf("the log carries feed text:\n%s", logs.String())
			}
		})
	}
}
