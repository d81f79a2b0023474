package classify

import (
	"bytes"
	"testing"
	"time"
)

// A typical post the model sees: a social post naming a school, 52 words.
const typicalPost = "My son came home white as a sheet. Apparently a boy at Brookfield told him he's got a blade and he'll \"do him\" at the bus stop after school. Police or school first? Honestly fuming that nobody at the school seems to care about this, third time this term."

// A news item as a search alert shows it: headline and snippet, 43 words.
const newsPost = "Folkestone primary school teacher arrested on suspicion of sexual assault - Kent Police confirmed a 38-year-old man who works at St Mary's Church of England Primary School was arrested on Monday and has been released on bail while inquiries continue."

// cpuPerOp reports CPU time per operation (see cpuTime) from start.
func cpuPerOp(b *testing.B, start time.Duration) {
	if start > 0 {
		b.ReportMetric(float64(cpuTime()-start)/float64(b.N), "cpu-ns/op")
	}
}

func BenchmarkScore(b *testing.B) {
	m := Builtin()
	b.ReportAllocs()
	start := cpuTime()
	for b.Loop() {
		m.Score(typicalPost)
	}
	cpuPerOp(b, start)
}

func BenchmarkScoreNews(b *testing.B) {
	m := Builtin()
	b.ReportAllocs()
	start := cpuTime()
	for b.Loop() {
		m.Score(newsPost)
	}
	cpuPerOp(b, start)
}

// BenchmarkFeatures is Score's first half: normalising (rules.Normalize),
// masking and hashing, without the weight lookups.
func BenchmarkFeatures(b *testing.B) {
	m := Builtin()
	fb := new(featBuf)
	b.ReportAllocs()
	start := cpuTime()
	for b.Loop() {
		m.meta.Features.extract(fb, typicalPost, m.mask, false)
	}
	cpuPerOp(b, start)
	b.ReportMetric(float64(len(fb.b[groupWord])+len(fb.b[groupBigram])+len(fb.b[groupChar])), "features")
}

func BenchmarkTopTerms(b *testing.B) {
	m := Builtin()
	b.ReportAllocs()
	start := cpuTime()
	for b.Loop() {
		m.TopTerms(typicalPost, "threat", 5)
	}
	cpuPerOp(b, start)
}

// BenchmarkDecode is what Builtin costs once, at first use.
func BenchmarkDecode(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Decode(bytes.NewReader(builtinModel)); err != nil {
			b.Fatal(err)
		}
	}
}
