package rules

import (
	"strings"
	"testing"
)

// obfuscate hides invisible characters and look-alike letters in the
// benchmark posts, as a poster evading filters would: a zero-width space
// inside every fifth word and a Cyrillic о for the o of every seventh.
func obfuscate(posts []string) []string {
	out := make([]string, len(posts))
	for i, p := range posts {
		ws := strings.Split(p, " ")
		for j, w := range ws {
			switch {
			case j%5 == 0 && len(w) > 2:
				ws[j] = w[:2] + "\u200b" + w[2:]
			case j%7 == 0 && strings.Contains(w, "o"):
				ws[j] = strings.Replace(w, "o", "\u043e", 1)
			}
		}
		out[i] = strings.Join(ws, " ")
	}
	return out
}

// BenchmarkMatcherObfuscated is BenchmarkMatcher on posts full of
// invisible characters and look-alikes. The invisible characters stay on
// the allocation-free ASCII path; a word with a Cyrillic letter takes the
// slow (NFKC) path, as any non-ASCII word does.
func BenchmarkMatcherObfuscated(b *testing.B) {
	d := loadBench()
	m := mustCompile(b, d.schools, d.rules)
	posts := obfuscate(d.posts)
	found := 0
	for i, p := range posts {
		if len(m.MentionedSchools(p)) > 0 && d.want[i] != "" {
			found++
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		m.Match(posts[i%len(posts)])
	}
	reportPostsPerSec(b)
	b.ReportMetric(float64(found), "schools-found")
}

// TestNationalScaleObfuscated is TestNationalScale on the obfuscated posts:
// every school named through invisible characters and look-alikes is still
// found, and the filler still names none.
func TestNationalScaleObfuscated(t *testing.T) {
	if testing.Short() {
		t.Skip("builds 25,000 schools")
	}
	d := loadBench()
	m := mustCompile(t, d.schools, d.rules)
	missed, extra, changed := 0, 0, 0
	for i, p := range obfuscate(d.posts) {
		if p != d.posts[i] {
			changed++
		}
		got := m.MentionedSchools(p)
		switch {
		case d.want[i] == "" && len(got) > 0:
			extra++
		case d.want[i] != "" && !strings.Contains(strings.Join(got, ","), d.want[i]):
			missed++
			if missed < 5 {
				t.Logf("missed %s: %q", d.want[i], p)
			}
		}
	}
	if changed < len(d.posts)*9/10 {
		t.Fatalf("only %d of %d posts were obfuscated", changed, len(d.posts))
	}
	if missed > 0 || extra > 0 {
		t.Errorf("obfuscated posts: missed %d named schools, %d false mentions in filler", missed, extra)
	}
}
