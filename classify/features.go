package classify

import (
	"strings"

	"github.com/schoolwatch/schoolwatch/rules"
)

// The feature groups. Each group's occurrences are scaled by
// groupWeight/sqrt(occurrences in the group), so a long post does not
// outweigh a short one and no group drowns the others.
const (
	groupWord   = iota // normalised word unigrams
	groupBigram        // adjacent word pairs
	groupChar          // character 3–5-grams inside a word, with < and > at its ends
	numGroups
)

// Features says how a text becomes hashed features; it is stored with the
// model, so scoring featurises exactly as training did.
type Features struct {
	Bits       int        `json:"bits"`        // 2^Bits hash buckets
	Weights    [3]float64 `json:"weights"`     // per group: word, bigram, char
	CharMin    int        `json:"char_min"`    // shortest character n-gram
	CharMax    int        `json:"char_max"`    // longest character n-gram
	MaxWordLen int        `json:"max_word"`    // bytes of a word used for character n-grams
	MaxWords   int        `json:"max_words"`   // words of a post read; the rest is ignored
	MaskSchool bool       `json:"mask_school"` // school names and towns become placeholders
}

// DefaultFeatures are the settings measured best on the dev split.
var DefaultFeatures = Features{
	Bits:       18,
	Weights:    [3]float64{1, 0.7, 1},
	CharMin:    3,
	CharMax:    5,
	MaxWordLen: 24,
	MaxWords:   1000,
	MaskSchool: true,
}

// featBuf holds one text's features: for each group, the bucket of every
// occurrence, and, when asked, which word (or bigram) it came from. It is
// reused through a pool, so scoring allocates little.
type featBuf struct {
	words, masked []string
	pad           []byte
	b             [numGroups][]uint32
	origin        [numGroups][]int32 // word index; for a bigram, the first word's index
}

func (fb *featBuf) reset() {
	fb.words, fb.masked, fb.pad = fb.words[:0], fb.masked[:0], fb.pad[:0]
	for g := range fb.b {
		fb.b[g] = fb.b[g][:0]
		fb.origin[g] = fb.origin[g][:0]
	}
}

// hashFeature hashes a feature's kind byte and bytes (FNV-1a, then a
// finaliser so the top bits are well mixed) to a bucket.
func hashFeature(kind byte, s string, bits int) uint32 {
	h := uint64(14695981039346656037)
	h = (h ^ uint64(kind)) * 1099511628211
	for i := 0; i < len(s); i++ {
		h = (h ^ uint64(s[i])) * 1099511628211
	}
	return bucketOf(h, bits)
}

// hashPair hashes a bigram "a b" without building it.
func hashPair(a, b string, bits int) uint32 {
	h := uint64(14695981039346656037)
	h = (h ^ 'b') * 1099511628211
	for i := 0; i < len(a); i++ {
		h = (h ^ uint64(a[i])) * 1099511628211
	}
	h = (h ^ ' ') * 1099511628211
	for i := 0; i < len(b); i++ {
		h = (h ^ uint64(b[i])) * 1099511628211
	}
	return bucketOf(h, bits)
}

func hashBytes(kind byte, s []byte, bits int) uint32 {
	h := uint64(14695981039346656037)
	h = (h ^ uint64(kind)) * 1099511628211
	for _, c := range s {
		h = (h ^ uint64(c)) * 1099511628211
	}
	return bucketOf(h, bits)
}

func bucketOf(h uint64, bits int) uint32 {
	h ^= h >> 33
	h *= 0xff51afd7ed558ccd
	h ^= h >> 33
	h *= 0xc4ceb9fe1a85ec53
	h ^= h >> 33
	return uint32(h >> (64 - bits))
}

// words fills fb.masked with the normalised, masked words of text.
func (f *Features) words(fb *featBuf, text string, m *masker) {
	n := rules.Normalize(text)
	for len(n) > 0 && len(fb.words) < f.MaxWords {
		i := strings.IndexByte(n, ' ')
		if i < 0 {
			fb.words = append(fb.words, n)
			break
		}
		fb.words = append(fb.words, n[:i])
		n = n[i+1:]
	}
	if f.MaskSchool && m != nil {
		fb.masked = m.mask(fb.masked, fb.words)
	} else {
		fb.masked = append(fb.masked, fb.words...)
	}
}

// extract fills fb with the features of text. origins says whether to
// record where each came from (for TopTerms).
func (f *Features) extract(fb *featBuf, text string, m *masker, origins bool) {
	fb.reset()
	f.words(fb, text, m)
	ws := fb.masked
	for i, w := range ws {
		fb.b[groupWord] = append(fb.b[groupWord], hashFeature('w', w, f.Bits))
		if i+1 < len(ws) {
			fb.b[groupBigram] = append(fb.b[groupBigram], hashPair(w, ws[i+1], f.Bits))
		}
		if origins {
			fb.origin[groupWord] = append(fb.origin[groupWord], int32(i))
			if i+1 < len(ws) {
				fb.origin[groupBigram] = append(fb.origin[groupBigram], int32(i))
			}
		}
		if w == schoolWord || w == placeWord {
			continue
		}
		if len(w) > f.MaxWordLen {
			w = w[:f.MaxWordLen]
		}
		fb.pad = append(append(append(fb.pad[:0], '<'), w...), '>')
		for n := f.CharMin; n <= f.CharMax; n++ {
			for j := 0; j+n <= len(fb.pad); j++ {
				fb.b[groupChar] = append(fb.b[groupChar], hashBytes('c', fb.pad[j:j+n], f.Bits))
				if origins {
					fb.origin[groupChar] = append(fb.origin[groupChar], int32(i))
				}
			}
		}
	}
}

// scales returns each group's weight per occurrence.
func (f *Features) scales(fb *featBuf) [numGroups]float64 {
	var s [numGroups]float64
	for g := range s {
		if n := len(fb.b[g]); n > 0 {
			s[g] = f.Weights[g] / sqrt(float64(n))
		}
	}
	return s
}
