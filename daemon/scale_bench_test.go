package daemon

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/schoolwatch/schoolwatch/gias"
	"github.com/schoolwatch/schoolwatch/gias/giastest"
)

// countyConfig writes a local authority's config into dir: schools
// imported from a generated register into schools.yml, with perSchool
// per_school feeds (Google News by short name and town, a search by
// official name, a feed by URN), and plain more feeds; it returns the
// config's path.
func countyConfig(tb testing.TB, dir string, schools, perSchool, plain int) string {
	tb.Helper()
	reg := giastest.Generate(giastest.Options{Open: schools, LAs: []string{"Kent"}, Seed: 1})
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
	c.WriteString("store: { path: var/sw.db }\nhttp: { listen: \"off\" }\nmail: { dir: var/mail, fallback: safeguarding@la.example.gov.uk }\nschools_file: schools.yml\n")
	c.WriteString("observers:\n  - { address: safeguarding@la.example.gov.uk, severities: [critical] }\n")
	c.WriteString("defaults: { schedule: \"@every 15m\" }\nfeeds:\n")
	templates := []string{
		"https://news.example.org/rss/search?q=%22{{ .Short }}%22+{{ .Town }}",
		"https://search.example.org/search.rss?q={{ .Query }}&sort=new",
		"https://feeds.example.org/school/{{ .ID }}.xml",
	}
	for i := range perSchool {
		fmt.Fprintf(&c, "  - { id: ps%d, per_school: true, url: %q }\n", i, templates[i%len(templates)])
	}
	for i := range plain {
		fmt.Fprintf(&c, "  - { id: f%d, url: \"https://feeds%d.example.org/news.xml\" }\n", i, i%50)
	}
	path := filepath.Join(dir, "schoolwatch.yml")
	if err := os.WriteFile(path, []byte(c.String()), 0o600); err != nil {
		tb.Fatal(err)
	}
	return path
}

// benchmarkCompile measures config load and plan compile (schools_file
// read, validation, matcher build, feed expansion): what start-up and a
// reload cost.
func benchmarkCompile(b *testing.B, schools, perSchool, plain, wantFeeds int) {
	path := countyConfig(b, b.TempDir(), schools, perSchool, plain)
	b.ReportAllocs()
	for b.Loop() {
		p, err := Compile(path, time.Now())
		if err != nil {
			b.Fatal(err)
		}
		if len(p.Config.Schools) != schools || len(p.Feeds) != wantFeeds {
			b.Fatalf("%d schools, %d feeds", len(p.Config.Schools), len(p.Feeds))
		}
	}
}

// 600 schools with three per_school feeds each: 1,800 feeds.
func BenchmarkCompile600Schools1800Feeds(b *testing.B) { benchmarkCompile(b, 600, 3, 0, 1800) }

// 25,000 schools and 10,000 feeds, as the soak harness runs.
func BenchmarkCompile25000Schools10000Feeds(b *testing.B) {
	benchmarkCompile(b, 25000, 0, 10000, 10000)
}

// 25,000 schools with three per_school feeds each: 75,000 feeds.
func BenchmarkCompile25000Schools75000Feeds(b *testing.B) {
	benchmarkCompile(b, 25000, 3, 0, 75000)
}
