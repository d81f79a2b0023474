package main

import (
	"bufio"
	"bytes"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/schoolwatch/schoolwatch/gias"
	"github.com/schoolwatch/schoolwatch/gias/giastest"
)

// The county-scale figures of issue 18, measured on the real binary:
//
//	go test -run '^$' -bench County -benchtime 1x -timeout 30m ./cmd/schoolwatch/
//
// BenchmarkCountyCheck runs `schoolwatch check` and reports its wall time
// and peak RSS (from the child's rusage): start-up is load, validation and
// matcher build. BenchmarkCountyRun starts the daemon against feeds served
// on 127.0.0.1, waits for the first cycle of polls, and reports start-up
// time, RSS once every feed has been polled, peak RSS, and CPU per hour on
// a 15-minute schedule (four cycles an hour plus the idle time between).

type countySize struct {
	name             string
	schools, perSch  int // perSch per_school feeds for every school
	plain            int // and this many plain feeds
	wantFeedsPolled  int
	concurrency, per int
}

var countySizes = []countySize{
	{name: "600schools-1800feeds", schools: 600, perSch: 3, wantFeedsPolled: 1800, concurrency: 16, per: 16},
	{name: "25000schools-10000feeds", schools: 25000, plain: 10000, wantFeedsPolled: 10000, concurrency: 32, per: 32},
}

// buildBinary builds schoolwatch once for the benchmarks.
func buildBinary(tb testing.TB) string {
	tb.Helper()
	bin := filepath.Join(tb.TempDir(), "schoolwatch")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		tb.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// writeCounty writes a local authority's config into dir: sz.schools
// schools imported from a generated register into schools.yml, per_school
// feeds and plain feeds under base, and returns the config's path.
func writeCounty(tb testing.TB, dir string, sz countySize, base, listen string) string {
	tb.Helper()
	reg := giastest.Generate(giastest.Options{Open: sz.schools, LAs: []string{"Kent"}, Seed: 1})
	imp, err := gias.Read(bytes.NewReader(reg.Data), gias.Options{Leaders: []gias.LeaderTemplate{{Role: "head", Template: "head@{domain}"}, {Role: "dsl", Template: "dsl-{urn}@la.example.gov.uk"}}})
	if err != nil {
		tb.Fatal(err)
	}
	var sb bytes.Buffer
	if err := gias.Write(&sb, "", imp.Schools); err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "schools.yml"), sb.Bytes(), 0o600); err != nil {
		tb.Fatal(err)
	}
	var c strings.Builder
	fmt.Fprintf(&c, "store: { path: var/sw.db }\nhttp: { listen: %q }\n", listen)
	c.WriteString("mail: { dir: var/mail, fallback: safeguarding@la.example.gov.uk }\nschools_file: schools.yml\n")
	c.WriteString("observers:\n  - { address: safeguarding@la.example.gov.uk, severities: [critical] }\n")
	fmt.Fprintf(&c, "defaults: { schedule: \"@every 15m\" }\npolling: { concurrency: %d, per_host: %d, jitter: 0s }\nfeeds:\n", sz.concurrency, sz.per)
	templates := []string{"/news?q=%22{{ .Short }}%22+{{ .Town }}", "/search?q={{ .Query }}", "/school/{{ .ID }}.xml"}
	for i := range sz.perSch {
		fmt.Fprintf(&c, "  - { id: ps%d, per_school: true, url: %q }\n", i, base+templates[i%len(templates)])
	}
	for i := range sz.plain {
		fmt.Fprintf(&c, "  - { id: f%d, url: \"%s/f/%d.xml\" }\n", i, base, i)
	}
	path := filepath.Join(dir, "schoolwatch.yml")
	if err := os.WriteFile(path, []byte(c.String()), 0o600); err != nil {
		tb.Fatal(err)
	}
	return path
}

func BenchmarkCountyCheck(b *testing.B) {
	bin := buildBinary(b)
	for _, sz := range countySizes {
		b.Run(sz.name, func(b *testing.B) {
			cfg := writeCounty(b, b.TempDir(), sz, "https://feeds.example.org", "off")
			for b.Loop() {
				cmd := exec.Command(bin, "check", "-config", cfg)
				var out bytes.Buffer
				cmd.Stdout, cmd.Stderr = &out, &out
				start := time.Now()
				if err := cmd.Start(); err != nil {
					b.Fatal(err)
				}
				peak := watchPeak(cmd.Process.Pid)
				err := cmd.Wait()
				wall := time.Since(start)
				if err != nil {
					b.Fatalf("check: %v\n%s", err, out.String())
				}
				b.ReportMetric(wall.Seconds(), "s-startup")
				b.ReportMetric(peak()/1024, "MiB-peak-RSS")
				b.Logf("%s (peak RSS %.0f MiB)", strings.TrimSpace(out.String()), peak()/1024)
			}
		})
	}
}

// watchPeak samples the peak RSS (VmHWM) of a running process every
// millisecond; the function it returns gives the last value read. (The
// child's rusage cannot say: Linux starts its peak from the parent's at
// exec, and this process has just generated a register.)
func watchPeak(pid int) func() float64 {
	var peak atomic.Value
	peak.Store(0.0)
	go func() {
		for {
			kb := procKB(pid, "VmHWM")
			if kb < 0 {
				return
			}
			peak.Store(kb)
			time.Sleep(time.Millisecond)
		}
	}()
	return func() float64 { return peak.Load().(float64) }
}

func BenchmarkCountyRun(b *testing.B) {
	bin := buildBinary(b)
	for _, sz := range countySizes {
		b.Run(sz.name, func(b *testing.B) {
			for b.Loop() {
				countyRun(b, bin, sz)
			}
		})
	}
}

func countyRun(b *testing.B, bin string, sz countySize) {
	dir := b.TempDir()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/rss+xml")
		fmt.Fprintf(w, `<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>
<item><guid>%[1]s-a</guid><title>Summer fair</title><description>The summer fair raised money for the library.</description><pubDate>%[2]s</pubDate></item>
<item><guid>%[1]s-b</guid><title>Sports day</title><description>Sports day moved to Friday.</description><pubDate>%[2]s</pubDate></item>
</channel></rss>`, r.URL.String(), time.Now().Add(-time.Hour).UTC().Format(time.RFC1123Z))
	})}
	go srv.Serve(ln)
	defer srv.Close()
	mln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	listen := mln.Addr().String()
	mln.Close()
	cfg := writeCounty(b, dir, sz, "http://"+ln.Addr().String(), listen)

	cmd := exec.Command(bin, "run", "-config", cfg, "-log-level", "warn")
	var logs bytes.Buffer
	cmd.Stderr = &logs
	start := time.Now()
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	defer func() {
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
	}()
	pid := cmd.Process.Pid
	waitFor(b, 10*time.Minute, "ready", &logs, func() bool {
		resp, err := http.Get("http://" + listen + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 200
	})
	ready := time.Since(start)
	cpuReady := cpuSeconds(pid)
	waitFor(b, 20*time.Minute, "the first cycle of polls", &logs, func() bool {
		return scrape(listen, "schoolwatch_polls_total") >= float64(sz.wantFeedsPolled)
	})
	cycle := time.Since(start) - ready
	cpuCycle := cpuSeconds(pid) - cpuReady
	rssAfter := procKB(pid, "VmRSS")
	// Idle until the next cycle: measure it for 30 s.
	cpu0 := cpuSeconds(pid)
	idleFor := 30 * time.Second
	time.Sleep(idleFor) // measuring idle CPU over a window, not synchronising
	idle := cpuSeconds(pid) - cpu0
	rssSteady := procKB(pid, "VmRSS")
	peak := procKB(pid, "VmHWM")
	perHour := 4*cpuCycle + idle*(time.Hour-4*cycle).Seconds()/idleFor.Seconds()

	b.ReportMetric(ready.Seconds(), "s-ready")
	b.ReportMetric(cycle.Seconds(), "s-first-cycle")
	b.ReportMetric(rssAfter/1024, "MiB-RSS-after-cycle")
	b.ReportMetric(rssSteady/1024, "MiB-RSS-steady")
	b.ReportMetric(peak/1024, "MiB-peak-RSS")
	b.ReportMetric(cpuCycle, "CPU-s/cycle")
	b.ReportMetric(perHour, "CPU-s/hour")
	b.Logf("%s: ready %.1fs, first cycle of %d polls %.1fs (%.1f CPU-s), RSS %.0f MiB after it, %.0f MiB idle, peak %.0f MiB; CPU per hour at @every 15m ≈ %.0f s",
		sz.name, ready.Seconds(), sz.wantFeedsPolled, cycle.Seconds(), cpuCycle, rssAfter/1024, rssSteady/1024, peak/1024, perHour)
}

func waitFor(b *testing.B, timeout time.Duration, what string, logs *bytes.Buffer, cond func() bool) {
	b.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			b.Fatalf("waited %v for %s\n%s", timeout, what, logs.String())
		}
		time.Sleep(100 * time.Millisecond) // polling with a deadline
	}
}

func scrape(listen, name string) float64 {
	resp, err := http.Get("http://" + listen + "/metrics")
	if err != nil {
		return -1
	}
	defer resp.Body.Close()
	sum := 0.0
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, name+"{") && !strings.HasPrefix(line, name+" ") {
			continue
		}
		f := strings.Fields(line)
		v, err := strconv.ParseFloat(f[len(f)-1], 64)
		if err == nil {
			sum += v
		}
	}
	return sum
}

// procKB reads a field of /proc/PID/status, in KiB.
func procKB(pid int, field string) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return -1
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			kb, _ := strconv.ParseFloat(strings.Fields(v)[0], 64)
			return kb
		}
	}
	return -1
}

// cpuSeconds is the user and system CPU time of a process so far.
func cpuSeconds(pid int) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return -1
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	ut, _ := strconv.ParseFloat(f[11], 64)
	st, _ := strconv.ParseFloat(f[12], 64)
	return (ut + st) / 100 // USER_HZ
}
