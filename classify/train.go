package classify

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"math"
	"math/rand/v2"
	"slices"
)

// TrainOptions are the training and calibration settings; they are stored
// in the model's header.
type TrainOptions struct {
	Epochs       int     `json:"epochs"`
	LearningRate float64 `json:"learning_rate"` // AdaGrad's step
	L2           float64 `json:"l2"`            // penalty on the weights a post touches
	// PositiveWeight multiplies the loss of a positive example, capped at
	// sqrt(negatives/positives) for its category: rare categories are not
	// drowned by the harmless majority.
	PositiveWeight float64 `json:"positive_weight"`
	Seed           uint64  `json:"seed"`
	// SchoolOnly trains on posts that name a school only. Calibration always
	// uses only those: the model runs on no other post.
	SchoolOnly bool `json:"school_only"`
	// Clip is the quantile of |weight| per category that maps to int8 127;
	// larger weights are clipped.
	Clip float64 `json:"clip"`
	// TargetPrecision: a category's threshold is the lowest whose dev
	// precision reaches it; if none does, the one with the best F1.
	TargetPrecision float64 `json:"target_precision"`
	// A category with fewer dev positives than MinDevPositives gets the
	// larger of its calibrated threshold and Conservative.
	MinDevPositives int     `json:"min_dev_positives"`
	Conservative    float64 `json:"conservative"`
	// MaxHarmless, if set, caps the share of dev's harmless posts given any
	// category: thresholds rise past the per-category choice until it holds.
	MaxHarmless float64 `json:"max_harmless"`
	// Floor is the lowest threshold calibration may pick.
	Floor float64 `json:"floor"`
}

// DefaultTraining are the settings measured best on the dev split.
var DefaultTraining = TrainOptions{
	Epochs:          20,
	LearningRate:    0.2,
	L2:              0.03,
	PositiveWeight:  3,
	Seed:            15,
	SchoolOnly:      false,
	Clip:            0.9999,
	TargetPrecision: 0.6,
	MinDevPositives: 5,
	Conservative:    0.5,
	MaxHarmless:     0.08,
	Floor:           0.05,
}

// Calibration records how one category's threshold was chosen.
type Calibration struct {
	Category     string  `json:"category"`
	Rule         string  `json:"rule"` // "precision", "f1" or "conservative"
	DevPositives int     `json:"dev_positives"`
	Precision    float64 `json:"dev_precision"`
	Recall       float64 `json:"dev_recall"`
}

// CorpusHash is the SHA-256 of examples in their canonical line form: what
// a model records of the splits it was made from.
func CorpusHash(examples []Example) string {
	h := sha256.New()
	for _, e := range examples {
		h.Write([]byte(e.Line()))
		h.Write([]byte{'\n'})
	}
	return hex.EncodeToString(h.Sum(nil))
}

// sparse is one post's features, summed per bucket and sorted by bucket.
type sparse struct {
	idx []uint32
	val []float64
}

func (f *Features) sparse(fb *featBuf, text string, m *masker) sparse {
	f.extract(fb, text, m, false)
	sc := f.scales(fb)
	acc := make(map[uint32]float64)
	for g := range fb.b {
		for _, b := range fb.b[g] {
			acc[b] += sc[g]
		}
	}
	s := sparse{idx: make([]uint32, 0, len(acc))}
	for b := range acc {
		s.idx = append(s.idx, b)
	}
	slices.Sort(s.idx)
	s.val = make([]float64, len(s.idx))
	for i, b := range s.idx {
		s.val[i] = acc[b]
	}
	return s
}

// Train fits a model on train and calibrates its thresholds on dev. The
// result depends only on its inputs: the same examples in the same order
// give the same model, bit for bit.
func Train(train, dev []Example, f Features, o TrainOptions) (*Model, error) {
	if o.SchoolOnly {
		train = schoolPosts(train)
	}
	dev = schoolPosts(dev)
	if len(train) == 0 || len(dev) == 0 {
		return nil, errors.New("train: empty train or dev split")
	}
	cats := Categories()
	k := len(cats)
	mask := newMasker(CorpusSchools)
	fb := new(featBuf)
	xs := make([]sparse, len(train))
	ys := make([][]bool, len(train))
	pos := make([]int, k)
	for i, e := range train {
		xs[i] = f.sparse(fb, e.Text, mask)
		ys[i] = make([]bool, k)
		for c, cat := range cats {
			if e.Has(cat) {
				ys[i][c] = true
				pos[c]++
			}
		}
	}
	cw := make([]float64, k) // weight of a positive example
	for c := range cw {
		cw[c] = 1
		if pos[c] > 0 {
			cw[c] = min(o.PositiveWeight, math.Sqrt(float64(len(train)-pos[c])/float64(pos[c])))
			cw[c] = max(cw[c], 1)
		}
	}

	nb := 1 << f.Bits
	w := make([]float64, nb*k)  // bucket-major, as the model stores them
	g2 := make([]float64, nb*k) // AdaGrad's sums of squared gradients
	bias := make([]float64, k)
	bg2 := make([]float64, k)
	z := make([]float64, k)
	grad := make([]float64, k)
	rng := rand.New(rand.NewPCG(o.Seed, o.Seed^0x5c4001))
	order := make([]int, len(train))
	for i := range order {
		order[i] = i
	}
	const eps = 1e-8
	for range o.Epochs {
		rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
		for _, i := range order {
			x, y := xs[i], ys[i]
			copy(z, bias)
			for j, b := range x.idx {
				row := w[int(b)*k : int(b)*k+k]
				v := x.val[j]
				for c := range row {
					z[c] += float64(row[c] * v)
				}
			}
			for c := range grad {
				p := sigmoid(z[c])
				if y[c] {
					grad[c] = float64(p-1) * cw[c]
				} else {
					grad[c] = p
				}
				bg2[c] += float64(grad[c] * grad[c])
				bias[c] -= o.LearningRate * grad[c] / (math.Sqrt(bg2[c]) + eps)
			}
			for j, b := range x.idx {
				row := w[int(b)*k : int(b)*k+k]
				acc := g2[int(b)*k : int(b)*k+k]
				v := x.val[j]
				for c := range row {
					gr := float64(grad[c]*v) + float64(o.L2*row[c])
					acc[c] += float64(gr * gr)
					row[c] -= float64(o.LearningRate*gr) / (math.Sqrt(acc[c]) + eps)
				}
			}
		}
	}

	meta := Meta{
		Version:     modelVersion,
		Categories:  cats,
		Features:    f,
		Training:    o,
		Biases:      bias,
		Thresholds:  make([]float64, k),
		TrainSHA256: CorpusHash(train),
		DevSHA256:   CorpusHash(dev),
		TrainPosts:  len(train),
		DevPosts:    len(dev),
	}
	q, scales := quantise(w, k, o.Clip)
	meta.Scales = scales
	m := newModel(meta, q)
	m.plattScale(dev)
	m.calibrate(dev, o)
	return m, nil
}

// schoolPosts returns the examples that name a school.
func schoolPosts(es []Example) []Example {
	var out []Example
	for _, e := range es {
		if len(e.Schools) > 0 {
			out = append(out, e)
		}
	}
	return out
}

// quantise turns float weights into int8 with one scale per category: the
// clip quantile of |w| over the buckets a post touched maps to 127.
func quantise(w []float64, k int, clip float64) ([]int8, []float64) {
	scales := make([]float64, k)
	q := make([]int8, len(w))
	for c := range k {
		var abs []float64
		for i := c; i < len(w); i += k {
			if w[i] != 0 {
				abs = append(abs, math.Abs(w[i]))
			}
		}
		if len(abs) == 0 {
			scales[c] = 1
			continue
		}
		slices.Sort(abs)
		top := abs[min(len(abs)-1, int(clip*float64(len(abs))))]
		// Round the scale to a float32 so the header's decimal form reads
		// back to exactly the same value.
		scales[c] = float64(float32(top / 127))
		for i := c; i < len(w); i += k {
			v := math.Round(w[i] / scales[c])
			q[i] = int8(max(-127, min(127, v)))
		}
	}
	return q, scales
}

// plattScale rescales each category's log-odds so that its probabilities
// mean what they say on dev (Platt scaling, with Platt's smoothed targets):
// the raw ones are squeezed towards 0 by the L2 penalty and the rarity of
// each category. The mapping is monotonic, so it changes no ranking; it is
// folded into the category's scale and bias.
func (m *Model) plattScale(dev []Example) {
	zs := make([][]float64, len(dev))
	for i, e := range dev {
		zs[i] = m.logits(e.Text, make([]float64, m.k))
	}
	for c, cat := range m.cats {
		npos := 0
		for _, e := range dev {
			if e.Has(cat) {
				npos++
			}
		}
		if npos == 0 {
			continue
		}
		hi := float64(npos+1) / float64(npos+2)
		lo := 1 / float64(len(dev)-npos+2)
		a, b := 1.0, 0.0
		for range 100 {
			// Newton's method on the two parameters, with a tiny ridge so
			// the Hessian is never singular.
			var g0, g1, h00, h01, h11 float64
			for i, e := range dev {
				z := zs[i][c]
				t := lo
				if e.Has(cat) {
					t = hi
				}
				p := sigmoid(float64(a*z) + b)
				d := p - t
				w := float64(p * (1 - p))
				g0 += float64(d * z)
				g1 += d
				h00 += float64(w * z * z)
				h01 += float64(w * z)
				h11 += w
			}
			h00 += 1e-6
			h11 += 1e-6
			det := float64(h00*h11) - float64(h01*h01)
			da := (float64(h11*g0) - float64(h01*g1)) / det
			db := (float64(h00*g1) - float64(h01*g0)) / det
			a, b = a-da, b-db
			if math.Abs(da) < 1e-10 && math.Abs(db) < 1e-10 {
				break
			}
		}
		if a <= 0 {
			continue // a model that ranks backwards on dev is left as trained
		}
		m.scale[c] = float64(float32(m.scale[c] * a))
		m.bias[c] = float64(float32(float64(a*m.bias[c]) + b))
	}
}

// calibrate sets each category's threshold from the model's scores on dev:
// the lowest threshold whose dev precision reaches TargetPrecision, else the
// one with the best F1, at least Conservative for a category with few dev
// positives; then, if MaxHarmless is set, thresholds rise until at most that
// share of dev's harmless posts gets any category.
func (m *Model) calibrate(dev []Example, o TrainOptions) {
	probs := make([][]float64, len(dev))
	for i, e := range dev {
		probs[i] = make([]float64, m.k)
		for c, s := range m.Score(e.Text) {
			probs[i][c] = s.P
		}
	}
	m.meta.Calibration = make([]Calibration, m.k)
	for c, cat := range m.cats {
		pts := make([]point, len(dev))
		npos := 0
		for i, e := range dev {
			pts[i] = point{probs[i][c], e.Has(cat)}
			if pts[i].pos {
				npos++
			}
		}
		t, rule := pickThreshold(pts, npos, o)
		m.thresh[c] = t
		m.meta.Calibration[c] = Calibration{Category: string(cat), Rule: rule, DevPositives: npos}
	}
	if o.MaxHarmless > 0 {
		m.fitHarmlessBudget(dev, probs, o.MaxHarmless)
	}
	for c, cat := range m.cats {
		var n Counts
		for i, e := range dev {
			switch got, want := probs[i][c] >= m.thresh[c], e.Has(cat); {
			case got && want:
				n.TP++
			case got:
				n.FP++
			case want:
				n.FN++
			}
		}
		m.meta.Calibration[c].Precision = round4(n.Precision())
		m.meta.Calibration[c].Recall = round4(n.Recall())
	}
}

type point struct {
	p   float64
	pos bool
}

// pickThreshold chooses one category's threshold from its dev points.
func pickThreshold(pts []point, npos int, o TrainOptions) (float64, string) {
	// Highest score first; walking down, each distinct score is a
	// candidate threshold with the counts of everything at or above it.
	slices.SortStableFunc(pts, func(a, b point) int { return cmp.Compare(b.p, a.p) })
	var (
		tp, fp      int
		bestF1, f1T = -1.0, 1.0
		precT       = -1.0
	)
	for i := range pts {
		if pts[i].pos {
			tp++
		} else {
			fp++
		}
		if i+1 < len(pts) && pts[i+1].p == pts[i].p {
			continue
		}
		t := pts[i].p
		if t < o.Floor {
			break
		}
		if f1 := 2 * float64(tp) / float64(2*tp+fp+(npos-tp)); npos > 0 && f1 > bestF1 {
			bestF1, f1T = f1, t
		}
		if float64(tp) >= o.TargetPrecision*float64(tp+fp) && tp > 0 {
			precT = t
		}
	}
	t, rule := f1T, "f1"
	if precT >= 0 {
		t, rule = precT, "precision"
	}
	if npos == 0 || npos < o.MinDevPositives && t < o.Conservative {
		t, rule = o.Conservative, "conservative"
	}
	// Rounded down for the header, the threshold still admits the dev
	// score it was read from.
	return math.Floor(t*1e6) / 1e6, rule
}

// fitHarmlessBudget raises thresholds, one step at a time, until at most
// budget of dev's harmless posts get any category: each step raises the
// category whose next threshold (just above the lowest-scoring harmless
// post it flags) clears harmless posts at the least cost in true positives.
func (m *Model) fitHarmlessBudget(dev []Example, probs [][]float64, budget float64) {
	harmless := 0
	for _, e := range dev {
		if e.Harmless() {
			harmless++
		}
	}
	flagged := func() int {
		n := 0
		for i, e := range dev {
			if !e.Harmless() {
				continue
			}
			for c := range m.k {
				if probs[i][c] >= m.thresh[c] {
					n++
					break
				}
			}
		}
		return n
	}
	for float64(flagged()) > budget*float64(harmless) {
		best, bestT, bestCost := -1, 0.0, math.Inf(1)
		before := flagged()
		for c := range m.k {
			// The lowest harmless score at or above the threshold.
			next := math.Inf(1)
			for i, e := range dev {
				if e.Harmless() && probs[i][c] >= m.thresh[c] && probs[i][c] < next {
					next = probs[i][c]
				}
			}
			if math.IsInf(next, 1) {
				continue
			}
			t := math.Nextafter(next, 2)
			lost := 0
			for i, e := range dev {
				if e.Has(m.cats[c]) && probs[i][c] >= m.thresh[c] && probs[i][c] < t {
					lost++
				}
			}
			old := m.thresh[c]
			m.thresh[c] = t
			gained := before - flagged()
			m.thresh[c] = old
			if gained == 0 {
				continue
			}
			if cost := float64(lost) / float64(gained); cost < bestCost {
				best, bestT, bestCost = c, t, cost
			}
		}
		if best < 0 {
			// No single step clears a post (each is flagged by two
			// categories): raise the category flagging most harmless posts.
			most := 0
			for c := range m.k {
				n := 0
				for i, e := range dev {
					if e.Harmless() && probs[i][c] >= m.thresh[c] {
						n++
					}
				}
				if n > most {
					most, best = n, c
				}
			}
			if best < 0 {
				return
			}
			next := math.Inf(1)
			for i, e := range dev {
				if e.Harmless() && probs[i][best] >= m.thresh[best] && probs[i][best] < next {
					next = probs[i][best]
				}
			}
			bestT = math.Nextafter(next, 2)
		}
		m.thresh[best] = math.Ceil(bestT*1e6) / 1e6
		m.meta.Calibration[best].Rule = "harmless-budget"
	}
}

func round4(x float64) float64 { return math.Round(x*1e4) / 1e4 }
