package rules

// Benchmarks for the whole matcher at national scale, side by side with
// three names-only baselines. Run with
//
//	go test -run x -bench . -benchmem ./rules/
//
// Every benchmark op is one post, so ns/op is the cost per post and the
// posts/s metric is its inverse. The Aho-Corasick baseline is built with
// fewer names (benchACNames) because github.com/cloudflare/ahocorasick needs
// several GB and ~10 s for 25,000; set SCHOOLWATCH_BENCH_AC_NAMES=25000 to
// try the full size.

import (
	"fmt"
	"math/rand/v2"
	"os"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cloudflare/ahocorasick"
)

const (
	benchSchools    = 25000
	benchRules      = 50
	benchPosts      = 10000
	benchRegexNames = 1000
	benchACNames    = 2000
	benchMentionPct = 2
)

type benchData struct {
	schools []School
	rules   []Rule
	posts   []string
	want    []string // the school ID mentioned in each post, or ""
	lower   []string // posts lower-cased, for the baselines
	names   []string // school names lower-cased
}

var (
	benchOnce sync.Once
	bench     benchData
)

// Syllables for invented place names: enough combinations that names are
// mostly distinct, as real ones are.
var (
	syl1  = strings.Fields("ash brad chil dun elm fal grim hal ive kel lang mar nor orp pen quen ros sal thorn ux wal yar zel bar cran dal fen gor hol kir lox mel nat ock pol rad sed tan ven wick")
	syl2  = strings.Fields("ford ton ley bury field wood ham stead worth combe well brook gate den hurst mere by thorpe wick dale cott bourne minster ing wich borough")
	mids  = strings.Fields("Park Green Hill Valley Meadows Vale Lane Road Oaks Grove Downs Heath Cross Fields")
	kinds = []string{"Primary School", "Academy", "Church of England Primary School", "Infant School",
		"Junior School", "High School", "Grammar School", "Community Primary School", "Primary Academy", "Roman Catholic Primary School"}
	saints = strings.Fields("Mary's John's Peter's Paul's Michael's Andrew's George's Joseph's Margaret's Nicholas'")
	filler = strings.Fields(`the a and to of in is it for on that was with as at by this be from have are
		not but they we you he she his her our their all about just like today yesterday week time people
		road traffic bus train weather rain sunny council meeting park shop market cafe pub football match
		win lost team new opening plans housing development local news community event charity fundraiser
		great good lovely terrible busy quiet morning evening night weekend holiday summer winter christmas
		dog cat walk beach harbour town village street parking bins recycling library church festival music`)
)

func placeName(r *rand.Rand) string {
	s := syl1[r.IntN(len(syl1))] + syl2[r.IntN(len(syl2))]
	return strings.ToUpper(s[:1]) + s[1:]
}

func loadBench() *benchData {
	benchOnce.Do(func() {
		r := rand.New(rand.NewPCG(1, 2))
		towns := make([]string, 2000)
		for i := range towns {
			towns[i] = placeName(r)
		}
		for i := 0; i < benchSchools; i++ {
			var name string
			if r.IntN(10) == 0 {
				name = "St " + saints[r.IntN(len(saints))] + " " + kinds[r.IntN(len(kinds))]
			} else {
				name = placeName(r)
				if r.IntN(3) > 0 {
					name += " " + mids[r.IntN(len(mids))]
				}
				name += " " + kinds[r.IntN(len(kinds))]
			}
			town := towns[r.IntN(len(towns))]
			bench.schools = append(bench.schools, School{
				ID: strconv.Itoa(100000 + i), Name: name, Town: town,
				Hashtags: []string{"#" + strings.ReplaceAll(strings.ReplaceAll(name, " ", ""), "'", "")},
				Context:  []string{towns[r.IntN(len(towns))]},
			})
			bench.names = append(bench.names, strings.ToLower(name))
		}
		words := strings.Fields("kill stab shoot bomb hurt teacher staff abuse assault hit neglect harm complain disgrace useless photo video pupil child journalist reporter liar fraud corrupt")
		for i := 0; i < benchRules; i++ {
			q := fmt.Sprintf(`(%s OR %s* OR "%s %s") NEAR/6 (%s OR %s) NOT (game OR film)`,
				words[r.IntN(len(words))], words[r.IntN(len(words))], words[r.IntN(len(words))],
				filler[r.IntN(len(filler))], words[r.IntN(len(words))], filler[r.IntN(len(filler))])
			bench.rules = append(bench.rules, Rule{ID: "r" + strconv.Itoa(i), Query: q, Category: "other", Severity: "normal"})
		}
		for i := 0; i < benchPosts; i++ {
			var b strings.Builder
			mention := r.IntN(100) < benchMentionPct
			at := r.IntN(40)
			want := ""
			for n := 0; b.Len() < 300; n++ {
				if mention && n == at {
					s := bench.schools[r.IntN(len(bench.schools))]
					b.WriteString(s.Name + " in " + s.Town + " ")
					want = s.ID
					continue
				}
				w := filler[r.IntN(len(filler))]
				if r.IntN(30) == 0 {
					w = words[r.IntN(len(words))]
				}
				if n%9 == 0 {
					w = strings.ToUpper(w[:1]) + w[1:]
				}
				b.WriteString(w)
				switch r.IntN(12) {
				case 0:
					b.WriteString(". ")
				case 1:
					b.WriteString(", ")
				case 2:
					b.WriteString("’s ")
				default:
					b.WriteByte(' ')
				}
			}
			bench.posts = append(bench.posts, b.String())
			bench.want = append(bench.want, want)
			bench.lower = append(bench.lower, strings.ToLower(b.String()))
		}
	})
	return &bench
}

// TestNationalScale checks the benchmark's own data: at 25,000 schools every
// post that names a school (with its town) is found, for that school, and
// filler text mentions none.
func TestNationalScale(t *testing.T) {
	if testing.Short() {
		t.Skip("builds 25,000 schools")
	}
	d := loadBench()
	m := mustCompile(t, d.schools, d.rules)
	missed, extra, named := 0, 0, 0
	for i, p := range d.posts {
		got := m.MentionedSchools(p)
		if d.want[i] == "" {
			if len(got) > 0 {
				extra++
				t.Logf("filler post mentions %q: %s", got, p)
			}
			continue
		}
		named++
		if !slices.Contains(got, d.want[i]) {
			missed++
			t.Logf("missed %s: %s", d.want[i], p)
		}
	}
	t.Logf("%d of %d posts name a school; missed %d, false in filler %d", named, len(d.posts), missed, extra)
	if missed > 0 || extra > 0 {
		t.Errorf("missed %d named schools, %d false mentions in filler posts", missed, extra)
	}
}

func reportPostsPerSec(b *testing.B) {
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "posts/s")
}

// BenchmarkMatcher is the whole matcher: normalisation, school mentions at
// 25,000 schools and 50 rules, per post.
func BenchmarkMatcher(b *testing.B) {
	d := loadBench()
	m := mustCompile(b, d.schools, d.rules)
	findings := 0
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		findings += len(m.Match(d.posts[i%len(d.posts)]))
	}
	reportPostsPerSec(b)
	_ = findings
}

// BenchmarkMatcherMentioning is the slow path alone: only posts that
// mention a school, so rules are evaluated every time.
func BenchmarkMatcherMentioning(b *testing.B) {
	d := loadBench()
	m := mustCompile(b, d.schools, d.rules)
	var posts []string
	for _, p := range d.posts {
		if len(m.MentionedSchools(p)) > 0 {
			posts = append(posts, p)
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		m.Match(posts[i%len(posts)])
	}
	reportPostsPerSec(b)
	b.ReportMetric(float64(len(posts))*100/float64(len(d.posts)), "%mentioning")
}

// BenchmarkMentionedSchools is school matching alone (with normalisation).
func BenchmarkMentionedSchools(b *testing.B) {
	d := loadBench()
	m := mustCompile(b, d.schools, d.rules)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		m.MentionedSchools(d.posts[i%len(d.posts)])
	}
	reportPostsPerSec(b)
}

// BenchmarkCompile builds the matcher for 25,000 schools and 50 rules and
// reports the heap it holds afterwards.
func BenchmarkCompile(b *testing.B) {
	d := loadBench()
	var keep *Matcher
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		keep = mustCompile(b, d.schools, d.rules)
	}
	b.StopTimer()
	runtime.GC()
	runtime.ReadMemStats(&after)
	b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/(1<<20), "heap-MB")
	b.ReportMetric(float64(len(keep.pats)), "patterns")
	runtime.KeepAlive(keep)
}

// BenchmarkBaselineNaive lower-cases the post and tries strings.Contains
// for each of the 25,000 names.
func BenchmarkBaselineNaive(b *testing.B) {
	d := loadBench()
	b.ReportAllocs()
	b.ResetTimer()
	found := 0
	for i := 0; i < b.N; i++ {
		p := strings.ToLower(d.posts[i%len(d.posts)])
		for _, n := range d.names {
			if strings.Contains(p, n) {
				found++
			}
		}
	}
	reportPostsPerSec(b)
}

// BenchmarkBaselineRegexp is one regexp alternation of 1,000 names (it is
// far too slow to build and run at 25,000).
func BenchmarkBaselineRegexp(b *testing.B) {
	d := loadBench()
	quoted := make([]string, benchRegexNames)
	for i := range quoted {
		quoted[i] = regexp.QuoteMeta(d.names[i])
	}
	re := regexp.MustCompile(`\b(?:` + strings.Join(quoted, "|") + `)\b`)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		re.FindAllStringIndex(strings.ToLower(d.posts[i%len(d.posts)]), -1)
	}
	reportPostsPerSec(b)
	b.ReportMetric(benchRegexNames, "names")
}

// BenchmarkBaselineAhoCorasick is github.com/cloudflare/ahocorasick on the
// lower-cased post, built with benchACNames names (see the file comment).
func BenchmarkBaselineAhoCorasick(b *testing.B) {
	d := loadBench()
	n := benchACNames
	if v, err := strconv.Atoi(os.Getenv("SCHOOLWATCH_BENCH_AC_NAMES")); err == nil && v > 0 && v <= len(d.names) {
		n = v
	}
	start := time.Now()
	ac := ahocorasick.NewStringMatcher(d.names[:n])
	build := time.Since(start)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		ac.Match([]byte(strings.ToLower(d.posts[i%len(d.posts)])))
	}
	reportPostsPerSec(b)
	b.ReportMetric(float64(n), "names")
	b.ReportMetric(build.Seconds(), "build-s")
}
