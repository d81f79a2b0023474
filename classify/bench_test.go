package classify

import (
	"bytes"
	"testing"
)

// A typical post the model sees: a social post naming a school, ~45 words.
const typicalPost = "My son came home white as a sheet. Apparently a boy at Brookfield told him he's got a blade and he'll \"do him\" at the bus stop after school. Police or school first? Honestly fuming that nobody at the school seems to care about this, third time this term."

// A news item as a search alert shows it: headline and snippet.
const newsPost = "Folkestone primary school teacher arrested on suspicion of sexual assault - Kent Police confirmed a 38-year-old man who works at St Mary's Church of England Primary School was arrested on Monday and has been released on bail while inquiries continue."

func BenchmarkScore(b *testing.B) {
	m := Builtin()
	b.ReportAllocs()
	for b.Loop() {
		m.Score(typicalPost)
	}
}

func BenchmarkScoreNews(b *testing.B) {
	m := Builtin()
	b.ReportAllocs()
	for b.Loop() {
		m.Score(newsPost)
	}
}

func BenchmarkTopTerms(b *testing.B) {
	m := Builtin()
	b.ReportAllocs()
	for b.Loop() {
		m.TopTerms(typicalPost, "threat", 5)
	}
}

func BenchmarkBuiltinDecode(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Decode(bytesReader(builtinModel)); err != nil {
			b.Fatal(err)
		}
	}
}

func bytesReader(b []byte) *bytes.Reader { return bytes.NewReader(b) }
