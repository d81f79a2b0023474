package watchers

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"runtime"
	"runtime/metrics"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/schoolwatch/schoolwatch/rules"
	"github.com/schoolwatch/schoolwatch/watchers/jetstreamtest"
)

// The Jetstream benchmark replays a stream shaped like Jetstream's
// posts-only subscription at 2,000 events/s (well above the network's post
// rate, about 50 a second in 2024) from a local fake server, through the
// real connector: decode, the school matcher on every post (1,000
// schools), batching, and the real store for the posts that name a school.
//
//	go test -run x -bench Jetstream -benchmem ./watchers/
//
// One op is one event. The fake server runs in a child process (this test
// binary again, TestFakeJetstreamProcess), so the CPU time and memory
// measured are the connector's alone. Sub-benchmarks:
//   - connector: the Stream as the daemon runs it.
//   - wire-only: the same stream read and thrown away, no decoding: what
//     the WebSocket itself costs.
//
// cpu-%core is this process's CPU time over the wall time; peak-heap-MiB
// is the live heap's peak, sampled every 20 ms (a finer sampler costs CPU
// the connector would be charged for); go-total-MiB is all the memory the
// Go runtime holds from the OS at the end.
const (
	benchStreamRate    = 2000
	benchStreamSchools = 1000
)

var benchWords = strings.Fields(`the a to and of in is it you that for on was with he be at by this had not are but from or have an they which one
	were all we when your can said there use each she do how their if will up other about out many then them these so some her would make like him
	into time has look two more write go see number no way could people my than first water been call who oil its now find long down day did get
	come made may part school today kids morning traffic weather lovely game match news love great new year happy thanks photo video watch read`)

// benchEvents builds n events in Jetstream's posts-only mix: 88% created
// posts (1% of them naming one of the schools, some replies with facets
// and embeds), 8% deleted posts, 4% identity and account events.
func benchEvents(n int, schools []rules.School, start time.Time) []jetstreamtest.Event {
	r := rand.New(rand.NewPCG(1, 2))
	out := make([]jetstreamtest.Event, n)
	for i := range out {
		at := start.Add(time.Duration(i) * time.Second / benchStreamRate)
		did := fmt.Sprintf("did:plc:%024x", r.Uint64()%1e12)
		rkey := fmt.Sprintf("3l%011x", i)
		switch k := r.IntN(100); {
		case k < 88:
			var b strings.Builder
			for w := 5 + r.IntN(35); w > 0; w-- {
				b.WriteString(benchWords[r.IntN(len(benchWords))])
				b.WriteByte(' ')
			}
			if r.IntN(100) == 0 {
				b.WriteString("at " + schools[r.IntN(len(schools))].Name + " ")
			}
			rec := map[string]any{"$type": "app.bsky.feed.post", "text": b.String(), "langs": []string{"en"}, "createdAt": at.UTC().Format(time.RFC3339Nano)}
			if r.IntN(3) == 0 {
				ref := map[string]string{"cid": "bafyreidc6sydkkbchcyg62v77wbhzvb2mvytlmsychqgwf2xojjtirmzj4", "uri": "at://" + did + "/app.bsky.feed.post/3l3qo2vuowo2b"}
				rec["reply"] = map[string]any{"parent": ref, "root": ref}
				rec["facets"] = []any{map[string]any{"index": map[string]int{"byteStart": 0, "byteEnd": 8}, "features": []any{map[string]string{"$type": "app.bsky.richtext.facet#link", "uri": "https://example.org/a"}}}}
			}
			b2, _ := json.Marshal(map[string]any{"did": did, "time_us": at.UnixMicro(), "kind": "commit", "commit": map[string]any{
				"rev": "3l3qo2vutsw2b", "operation": "create", "collection": PostCollection, "rkey": rkey, "record": rec,
				"cid": "bafyreidc6sydkkbchcyg62v77wbhzvb2mvytlmsychqgwf2xojjtirmzj4"}})
			out[i] = jetstreamtest.Event{TimeUS: at.UnixMicro(), JSON: b2}
		case k < 96:
			out[i] = jetstreamtest.Delete(did, rkey, at)
		case k < 98:
			out[i] = jetstreamtest.Identity(did, fmt.Sprintf("user%d.bsky.social", i), at)
		default:
			out[i] = jetstreamtest.Account(did, at)
		}
	}
	return out
}

func benchSchools(n int) []rules.School {
	towns := strings.Fields("Ashford Dover Deal Folkestone Hythe Canterbury Margate Ramsgate Broadstairs Whitstable Herne Faversham Sittingbourne Maidstone Tonbridge Sevenoaks Dartford Gravesend Chatham Gillingham")
	kinds := []string{"Primary School", "Academy", "Church of England Primary School", "Infant School", "Junior School", "High School", "Grammar School"}
	out := make([]rules.School, n)
	for i := range out {
		town := towns[i%len(towns)]
		out[i] = rules.School{ID: fmt.Sprint(900000 + i), Name: fmt.Sprintf("%s %s %d %s", town, []string{"Oakwood", "Riverside", "Hillview", "Meadow", "Kingsmead"}[i%5], i, kinds[i%len(kinds)]), Town: town}
	}
	return out
}

func BenchmarkJetstream(b *testing.B) {
	schools := benchSchools(benchStreamSchools)
	m, err := rules.Compile(schools, []rules.Rule{{ID: "threat", Query: "knife OR gun OR stab*", Category: "threat", Severity: "critical"}})
	if err != nil {
		b.Fatal(err)
	}
	relevant := func(text string) bool { return len(m.MentionedSchools(text)) > 0 }

	run := func(b *testing.B, consume func(ctx context.Context, url string) int) {
		url, stop := fakeJetstreamProcess(b, b.N)
		defer stop()
		runtime.GC()
		b.ReportAllocs()
		b.ResetTimer()
		stopHeap := sampleHeap(20 * time.Millisecond)
		cpu0 := cpuTime()
		start := time.Now()
		kept := consume(context.Background(), url)
		wall := time.Since(start)
		cpu := cpuTime() - cpu0
		peak := stopHeap()
		b.StopTimer()
		b.ReportMetric(100*cpu.Seconds()/wall.Seconds(), "cpu-%core")
		b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
		b.ReportMetric(float64(b.N)/wall.Seconds(), "events/s")
		b.ReportMetric(float64(kept), "sink-batches")
		sample := []metrics.Sample{{Name: "/memory/classes/total:bytes"}}
		metrics.Read(sample)
		b.ReportMetric(float64(sample[0].Value.Uint64())/(1<<20), "go-total-MiB")
	}

	b.Run("connector", func(b *testing.B) {
		run(b, func(ctx context.Context, url string) int {
			st := openStore(b, b.TempDir())
			sink := &storeSink{st: st, forget: true}
			p := &Poller{Store: st, Sink: sink, Log: quiet, MaxBackoff: time.Hour}
			s := &Stream{Feed: Feed{ID: "bluesky", Name: "Bluesky", Stream: true, URL: url, Timeout: 20 * time.Second, MaxItemAge: 72 * time.Hour}, Poller: p, Relevant: relevant}
			if st, err := p.State(ctx, s.Feed.ID); err == nil {
				s.st = st
			}
			if good, err := s.session(ctx); !good {
				b.Fatalf("session: %v", err)
			}
			fs, _ := p.State(ctx, s.Feed.ID)
			if fs.Cursor != 0 && fs.ItemsSeen == 0 {
				b.Fatal("no post read")
			}
			sink.mu.Lock()
			defer sink.mu.Unlock()
			return sink.calls
		})
	})
	b.Run("wire-only", func(b *testing.B) {
		run(b, func(ctx context.Context, url string) int {
			conn, _, err := websocket.Dial(ctx, url, nil)
			if err != nil {
				b.Fatal(err)
			}
			defer conn.CloseNow()
			conn.SetReadLimit(MaxStreamMessage)
			for {
				_, _, err := conn.Read(ctx)
				if err != nil {
					return 0
				}
			}
		})
	})
}

// fakeJetstreamProcess starts this test binary as a fake Jetstream serving
// n benchmark events at benchStreamRate, and returns its URL.
func fakeJetstreamProcess(b *testing.B, n int) (url string, stop func()) {
	cmd := exec.Command(os.Args[0], "-test.run=^TestFakeJetstreamProcess$", "-test.v")
	cmd.Env = append(os.Environ(), "SCHOOLWATCH_FAKE_JETSTREAM="+strconv.Itoa(n))
	stdin, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		if u, ok := strings.CutPrefix(sc.Text(), "FAKE-JETSTREAM "); ok {
			url = u
			break
		}
	}
	if url == "" {
		cmd.Process.Kill()
		cmd.Wait()
		b.Fatal("the fake Jetstream process gave no URL")
	}
	go io.Copy(io.Discard, out)
	return url, func() { stdin.Close(); cmd.Wait() }
}

// TestFakeJetstreamProcess is BenchmarkJetstream's server, in a process of
// its own; it does nothing in an ordinary test run.
func TestFakeJetstreamProcess(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("SCHOOLWATCH_FAKE_JETSTREAM"))
	if n <= 0 {
		t.Skip("the fake Jetstream process of BenchmarkJetstream")
	}
	events := benchEvents(n, benchSchools(benchStreamSchools), time.Now().Add(-time.Hour))
	srv := jetstreamtest.NewServer(func(int, jetstreamtest.Conn) jetstreamtest.Script {
		return jetstreamtest.Script{Events: events, Rate: benchStreamRate}
	})
	defer srv.Close()
	fmt.Println("FAKE-JETSTREAM " + srv.URL)
	io.Copy(io.Discard, os.Stdin) // until the benchmark closes it
}

// sampleHeap samples the live heap every d until stop is called and
// returns the peak.
func sampleHeap(d time.Duration) (stop func() uint64) {
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	var peak uint64
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(d)
		defer t.Stop()
		for {
			metrics.Read(sample)
			peak = max(peak, sample[0].Value.Uint64())
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	}()
	return func() uint64 { close(done); <-finished; return peak }
}
