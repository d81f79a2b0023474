package classify

import (
	"bytes"
	_ "embed"
	"math"
	"slices"
	"strings"
	"sync"

	"github.com/schoolwatch/schoolwatch/rules"
)

// Model is a trained classifier: int8 weights per (bucket, category) with a
// scale and a bias per category, the featurisation it was trained with and a
// calibrated threshold per category. It is read-only and safe for concurrent
// use.
type Model struct {
	meta    Meta
	cats    []rules.Category
	k       int
	weights []int8 // bucket-major: weights[b*k+c]
	scale   []float64
	bias    []float64
	thresh  []float64
	mask    *masker
	pool    *sync.Pool // of *featBuf
}

// Score is one category's probability for a post.
type Score struct {
	Category  rules.Category
	P         float64 // the model's probability that the category applies
	Threshold float64 // the calibrated threshold: P at or above it is a "possibly" finding
}

// Possible reports whether the score reaches its category's threshold.
func (s Score) Possible() bool { return s.P >= s.Threshold }

// Term is a word or word pair of a post with its contribution to a
// category's score (its weight times its value, in log-odds).
type Term struct {
	Text   string
	Weight float64
}

//go:embed model.bin
var builtinModel []byte

// Builtin returns the model embedded in the binary, decoded on first use.
// It masks the corpus schools' names; use ForSchools to mask configured ones.
var Builtin = sync.OnceValue(func() *Model {
	m, err := Decode(bytes.NewReader(builtinModel))
	if err != nil {
		panic("classify: embedded model: " + err.Error()) // a build that embeds a bad file is broken
	}
	return m
})

func newModel(meta Meta, weights []int8) *Model {
	m := &Model{
		meta:    meta,
		cats:    meta.Categories,
		k:       len(meta.Categories),
		weights: weights,
		scale:   meta.Scales,
		bias:    meta.Biases,
		thresh:  meta.Thresholds,
		mask:    newMasker(CorpusSchools),
		pool:    &sync.Pool{New: func() any { return new(featBuf) }},
	}
	return m
}

// Meta describes how the model was made.
func (m *Model) Meta() Meta { return m.meta }

// Categories returns the categories the model scores, in Score's order.
func (m *Model) Categories() []rules.Category { return slices.Clone(m.cats) }

// Threshold returns category c's calibrated threshold, or 2 (never reached)
// for a category the model does not know.
func (m *Model) Threshold(c rules.Category) float64 {
	if i := slices.Index(m.cats, c); i >= 0 {
		return m.thresh[i]
	}
	return 2
}

// ForSchools returns a model that also masks the names, aliases, hashtags,
// domains, towns and context places of schools, for scoring real posts about
// configured schools. The weights are shared, not copied; call it once
// when the config loads, not per post.
func (m *Model) ForSchools(schools []rules.School) *Model {
	c := *m
	c.mask = newMasker(append(slices.Clone(CorpusSchools), schools...))
	return &c
}

// Score returns every category's probability for text, in Categories order.
func (m *Model) Score(text string) []Score {
	out := make([]Score, m.k)
	var zb [32]float64
	z := zb[:0]
	if m.k > len(zb) {
		z = make([]float64, m.k)
	}
	z = m.logits(text, z[:m.k])
	for c := range out {
		out[c] = Score{Category: m.cats[c], P: sigmoid(z[c]), Threshold: m.thresh[c]}
	}
	return out
}

// logits fills z (len k) with the log-odds of every category for text.
func (m *Model) logits(text string, z []float64) []float64 {
	fb := m.pool.Get().(*featBuf)
	defer m.pool.Put(fb)
	f := &m.meta.Features
	f.extract(fb, text, m.mask, false)
	sc := f.scales(fb)
	k := m.k
	var accBuf [32]int32
	acc := accBuf[:k]
	if k > len(accBuf) {
		acc = make([]int32, k)
	}
	copy(z, m.bias)
	for g := range fb.b {
		clear(acc)
		for _, b := range fb.b[g] {
			row := m.weights[int(b)*k : int(b)*k+k]
			for c, w := range row {
				acc[c] += int32(w)
			}
		}
		for c := range k {
			z[c] += float64(float64(acc[c])*sc[g]) * m.scale[c]
		}
	}
	return z
}

// TopTerms returns the n words and word pairs of text that add most to
// category c's score, largest first, positive contributions only: the
// reasons explain shows for a "possibly" finding. A word's contribution
// includes its character n-grams; a masked school name shows as _school_.
func (m *Model) TopTerms(text string, c rules.Category, n int) []Term {
	ci := slices.Index(m.cats, c)
	if ci < 0 || n <= 0 {
		return nil
	}
	fb := new(featBuf)
	f := &m.meta.Features
	f.extract(fb, text, m.mask, true)
	sc := f.scales(fb)
	// Each occurrence's share, by the word (or the pair starting at the
	// word) it came from; then summed by text, in word order, so the same
	// word twice is one term and the sums are the same on every run.
	word := make([]float64, len(fb.masked))
	pair := make([]float64, len(fb.masked))
	for g := range fb.b {
		for j, b := range fb.b[g] {
			v := float64(m.weights[int(b)*m.k+ci]) * sc[g] * m.scale[ci]
			if g == groupBigram {
				pair[fb.origin[g][j]] += v
			} else {
				word[fb.origin[g][j]] += v
			}
		}
	}
	sum := make(map[string]float64)
	for i, w := range fb.masked {
		sum[w] += word[i]
		if i+1 < len(fb.masked) {
			sum[w+" "+fb.masked[i+1]] += pair[i]
		}
	}
	var out []Term
	for t, v := range sum {
		if v > 0 {
			out = append(out, Term{Text: t, Weight: v})
		}
	}
	slices.SortFunc(out, func(a, b Term) int {
		if a.Weight != b.Weight {
			if a.Weight > b.Weight {
				return -1
			}
			return 1
		}
		return strings.Compare(a.Text, b.Text)
	})
	if len(out) > n {
		out = out[:n]
	}
	return out
}

func sigmoid(z float64) float64 { return 1 / (1 + math.Exp(-z)) }

func sqrt(x float64) float64 { return math.Sqrt(x) }
