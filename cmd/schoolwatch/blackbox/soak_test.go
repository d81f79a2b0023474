package blackbox

import (
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/schoolwatch/schoolwatch/alerts/smtptest"
)

// BenchmarkSoak is the load and soak harness: the real daemon polls many
// feeds served on 127.0.0.1 for many schools while items arrive
// continuously, and mails a real SMTP server on 127.0.0.1. It reports polls
// and alerts per second, the p99 latency from an item appearing in its feed
// to its mail being accepted, the daemon's peak RSS and its heap growth
// between the first and last fifths of the run (it must stay flat).
//
// It runs once per invocation, for SOAK_DURATION:
//
//	go test -v -run '^$' -bench BenchmarkSoak -benchtime 1x -timeout 30m ./cmd/schoolwatch/blackbox/
//
// (-v shows the whole memory series; without it the benchmark log is cut short.)
//
// Environment (defaults in brackets): SOAK_FEEDS [10000], SOAK_SCHOOLS
// [25000], SOAK_DURATION [10m], SOAK_RATE new items per second across all
// feeds [20], SOAK_INTERVAL each feed's poll interval [1m].
func BenchmarkSoak(b *testing.B) {
	feeds := envInt("SOAK_FEEDS", 10000)
	schools := envInt("SOAK_SCHOOLS", 25000)
	rate := envInt("SOAK_RATE", 20)
	dur := envDuration("SOAK_DURATION", 10*time.Minute)
	interval := envDuration("SOAK_INTERVAL", time.Minute)
	for range b.N {
		soak(b, feeds, schools, rate, dur, interval)
	}
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

func envDuration(name string, def time.Duration) time.Duration {
	if v, err := time.ParseDuration(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

var (
	soakFirst = strings.Fields("Ash Beech Birch Cedar Elm Fir Hazel Holly Larch Maple Oak Pine Rowan Willow Yew Alder Aspen Bramble Clover Fern Heather Ivy Juniper Laurel Myrtle Poplar Sorrel Thistle Violet Wren Falcon Heron Kestrel Lark Linnet Merlin Osprey Plover Raven Robin Swift Teal Thrush Finch Badger Otter Fox Hare Stag Vale")
	soakMid   = strings.Fields("field brook wood hill dale ford mead stone bridge gate moor well worth combe ley marsh croft holme shaw thorpe by ham ton stead wick bury den hurst lands side bank cliff down fold garth heath knowle lea mere more park ridge royd scar tor view water way wold grove")
	soakKind  = []string{"Primary School", "Academy", "High School", "Infant School", "Junior School", "College", "Grammar School", "Community School", "Free School", "Church School"}
)

func soakSchool(i int) string {
	return soakFirst[i%50] + soakMid[i/50%50] + " " + soakKind[i/2500%10]
}

// soakFeeds serves n feeds, each the last few items added to it.
type soakFeeds struct {
	mu      sync.Mutex
	items   [][]item
	created map[string]time.Time // token -> when it appeared
}

func (s *soakFeeds) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	i, err := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/f/"), ".xml"))
	if err != nil || i < 0 || i >= len(s.items) {
		http.NotFound(w, r)
		return
	}
	s.mu.Lock()
	its := slices.Clone(s.items[i])
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/rss+xml")
	io.WriteString(w, rss(its))
}

func (s *soakFeeds) add(feed int, it item, token string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	its := append(s.items[feed], it)
	if len(its) > 10 {
		its = its[len(its)-10:]
	}
	s.items[feed] = its
	if token != "" {
		s.created[token] = time.Now()
	}
}

func soak(b *testing.B, nFeeds, nSchools, rate int, dur, interval time.Duration) {
	b.StopTimer()
	dir := b.TempDir()
	old := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	sf := &soakFeeds{items: make([][]item, nFeeds), created: map[string]time.Time{}}
	for i := range sf.items {
		sf.items[i] = []item{
			{GUID: fmt.Sprintf("old-%d-a", i), Title: "Archive: summer fair", Text: "Old news.", Published: old},
			{GUID: fmt.Sprintf("old-%d-b", i), Title: "Archive: sports day", Text: "Old news.", Published: old},
		}
	}
	fsrv := &http.Server{Handler: sf}
	ln, err := listen()
	if err != nil {
		b.Fatal(err)
	}
	go fsrv.Serve(ln)
	defer fsrv.Close()
	base := "http://" + ln.Addr().String()

	var lmu sync.Mutex
	var lat []time.Duration
	mails := 0
	srv := smtptest.StartWith(b, smtptest.Options{OnMessage: func(m smtptest.Message, at time.Time) {
		r := decode(b, m)
		lmu.Lock()
		defer lmu.Unlock()
		mails++
		sf.mu.Lock()
		for _, tk := range r.tokens() {
			if c, ok := sf.created[tk]; ok {
				lat = append(lat, at.Sub(c))
			}
		}
		sf.mu.Unlock()
	}})

	// The config: every school has one leader for both roles.
	port := freePort(b)
	var y strings.Builder
	fmt.Fprintf(&y, "store: { path: %q }\nhttp: { listen: \"127.0.0.1:%d\" }\n", filepath.Join(dir, "sw.db"), port)
	fmt.Fprintf(&y, "mail:\n  from: \"schoolwatch <alerts@example.org>\"\n  smtp: { host: %s, port: %d, tls: none }\n  group_wait: 0s\n  retry: { initial: 1s, max: 30s }\n", srv.Host(), srv.Port())
	fmt.Fprintf(&y, "defaults: { schedule: \"@every %s\", timeout: 20s, max_item_age: 72h }\n", interval)
	fmt.Fprintf(&y, "polling: { concurrency: 32, per_host: 32, jitter: %s }\n", interval/4)
	y.WriteString("schools:\n")
	for i := range nSchools {
		fmt.Fprintf(&y, "  - id: \"s%d\"\n    name: %q\n    leaders: [{ email: head%d@school.example.org, roles: [head, dsl] }]\n", i, soakSchool(i), i)
	}
	y.WriteString("feeds:\n")
	for i := range nFeeds {
		fmt.Fprintf(&y, "  - { id: f%d, url: \"%s/f/%d.xml\" }\n", i, base, i)
	}
	y.WriteString(`rules:
  - { id: threat, query: 'knife OR threat OR hurt', category: threat, severity: critical, guidance: threats-and-harassment, notify: [head, dsl] }
`)
	cfg := filepath.Join(dir, "schoolwatch.yml")
	if err := os.WriteFile(cfg, []byte(y.String()), 0o600); err != nil {
		b.Fatal(err)
	}

	logs := &logBuffer{}
	d := start(b, cfg, port, logs)
	startup := time.Now()
	eventually(b, 5*time.Minute, "the daemon to become ready", func() bool { return d.ready() })
	b.Logf("ready after %v with %d feeds, %d schools", time.Since(startup).Round(time.Millisecond), nFeeds, nSchools)

	// Items arrive continuously: half of them alert.
	stop := make(chan struct{})
	var produced, alerting int
	var pwg sync.WaitGroup
	pwg.Add(1)
	go func() {
		defer pwg.Done()
		rng := rand.New(rand.NewPCG(1, 2))
		tick := time.NewTicker(time.Second / time.Duration(rate))
		defer tick.Stop()
		for n := 0; ; n++ {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			produced++
			feed := rng.IntN(nFeeds)
			name := soakSchool(rng.IntN(nSchools))
			tk := fmt.Sprintf("TKsoak-%d", n)
			it := item{GUID: tk, Link: "https://news.example.org/" + tk}
			if n%2 == 0 {
				alerting++
				it.Title = "Threat reported at " + name + " " + tk
				it.Text = "A parent says a pupil brought a knife to " + name + ". " + tk
				sf.add(feed, it, tk)
			} else {
				it.Title = "Cake sale at " + name + " " + tk
				it.Text = "The summer fair raised money for the library."
				sf.add(feed, it, "")
			}
		}
	}()

	type sample struct {
		at        time.Time
		heap, rss float64
		polls     float64
		cpu       float64
	}
	var samples []sample
	take := func() {
		samples = append(samples, sample{at: time.Now(), heap: d.metric("go_memstats_heap_inuse_bytes"), rss: float64(procStatus(d.cmd.Process.Pid, "VmRSS")), polls: d.metric("schoolwatch_polls_total"), cpu: d.metric("process_cpu_seconds_total")})
	}
	b.StartTimer()
	t0 := time.Now()
	take()
	tick := time.NewTicker(10 * time.Second)
	for time.Since(t0) < dur {
		<-tick.C
		if !d.running() {
			b.Fatalf("the daemon exited: %v\n%s", d.err, tail(logs.String(), 4000))
		}
		take()
	}
	tick.Stop()
	close(stop)
	pwg.Wait()
	elapsed := time.Since(t0)
	b.StopTimer()
	peak := d.peakRSS()
	d.stop()

	first, last := samples[0], samples[len(samples)-1]
	fifth := max(1, len(samples)/5)
	avg := func(ss []sample) float64 {
		sum := 0.0
		for _, s := range ss {
			sum += s.heap
		}
		return sum / float64(len(ss))
	}
	// The first fifth includes the start-up round of every feed; compare the
	// second fifth with the last.
	early := avg(samples[min(fifth, len(samples)-1):min(2*fifth, len(samples))])
	late := avg(samples[len(samples)-fifth:])
	lmu.Lock()
	slices.Sort(lat)
	var p50, p99 time.Duration
	if len(lat) > 0 {
		p50, p99 = lat[len(lat)/2], lat[min(len(lat)-1, len(lat)*99/100)]
	}
	got := mails
	lmu.Unlock()

	pollsPerSec := (last.polls - first.polls) / last.at.Sub(first.at).Seconds()
	b.ReportMetric(pollsPerSec, "polls/s")
	b.ReportMetric(float64(got)/elapsed.Seconds(), "alerts/s")
	b.ReportMetric(p99.Seconds(), "p99-item-to-mail-s")
	b.ReportMetric(float64(peak)/(1<<20), "peak-RSS-MiB")
	b.ReportMetric((late-early)/(1<<20), "heap-growth-MiB")
	b.ReportMetric(100*(last.cpu-first.cpu)/last.at.Sub(first.at).Seconds(), "daemon-CPU-%")
	b.Logf("%v: %d feeds every %v, %d schools; %d items produced (%d alerting), %d mails received", elapsed.Round(time.Second), nFeeds, interval, nSchools, produced, alerting, got)
	b.Logf("polls/s %.1f, alerts/s %.2f, item-to-mail p50 %v p99 %v (%d measured)", pollsPerSec, float64(got)/elapsed.Seconds(), p50.Round(time.Millisecond), p99.Round(time.Millisecond), len(lat))
	b.Logf("peak RSS %d MiB; heap in use %.1f MiB (second fifth) -> %.1f MiB (last fifth)", peak>>20, early/(1<<20), late/(1<<20))
	for _, s := range samples {
		b.Logf("  t=%-5v heap_inuse=%6.1f MiB rss=%6.1f MiB polls=%.0f", s.at.Sub(t0).Round(time.Second), s.heap/(1<<20), s.rss/(1<<20), s.polls)
	}
}

func listen() (net.Listener, error) { return net.Listen("tcp", "127.0.0.1:0") }
