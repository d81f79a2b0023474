package daemon

import (
	"testing"
	"time"
)

// BenchmarkDetect is the whole detection step (rules, model, mention) on a
// post that names a school and that no rule catches, the case that costs
// most: issue 15 asks for at most 50 µs.
func BenchmarkDetect(b *testing.B) {
	p, err := Compile(corpusConfig(b), time.Now())
	if err != nil {
		b.Fatal(err)
	}
	const post = "my lad says a man keeps hanging round outside Harbourside Academy in Dover at home time offering the year 6 girls lifts in his van, does anyone know who he is"
	if len(p.detect.Detect(post)) == 0 {
		b.Fatal("no finding")
	}
	b.ReportAllocs()
	for b.Loop() {
		p.detect.Detect(post)
	}
}

// BenchmarkDetectNoSchool is the common case: a post that names no
// configured school costs the matcher's scan alone.
func BenchmarkDetectNoSchool(b *testing.B) {
	p, err := Compile(corpusConfig(b), time.Now())
	if err != nil {
		b.Fatal(err)
	}
	const post = "Lovely walk along the seafront this morning, the new cafe by the harbour does a great flat white and the dog loved the beach"
	b.ReportAllocs()
	for b.Loop() {
		p.detect.Detect(post)
	}
}
