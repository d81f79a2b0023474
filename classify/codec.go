package classify

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/schoolwatch/schoolwatch/rules"
)

// Meta is the model file's header: how the model was featurised, trained
// and calibrated, and on which corpus.
type Meta struct {
	Version    int              `json:"version"`
	Categories []rules.Category `json:"categories"`
	Features   Features         `json:"features"`
	Training   TrainOptions     `json:"training"`
	Scales     []float64        `json:"scales"`     // per category: weight = int8 × scale
	Biases     []float64        `json:"biases"`     // per category, log-odds
	Thresholds []float64        `json:"thresholds"` // per category, probability
	// Calibration says, per category, how its threshold was chosen and what
	// it gave on the dev split.
	Calibration []Calibration `json:"calibration"`
	// TrainSHA256 and DevSHA256 are the hashes of the split files the model
	// was trained and calibrated on; a test compares them with the files in
	// the repository, so a stale model fails.
	TrainSHA256 string `json:"train_sha256"`
	DevSHA256   string `json:"dev_sha256"`
	TrainPosts  int    `json:"train_posts"`
	DevPosts    int    `json:"dev_posts"`
}

const (
	modelMagic   = "SWLC" // schoolwatch linear classifier
	modelVersion = 1
	maxHeader    = 1 << 20
	maxBits      = 22
)

// Encode writes the model file: gzip of the magic, a length-prefixed JSON
// header and the int8 weights. The same model always gives the same bytes.
func (m *Model) Encode(w io.Writer) error {
	hdr, err := json.MarshalIndent(m.meta, "", " ")
	if err != nil {
		return err
	}
	zw, err := gzip.NewWriterLevel(w, gzip.BestCompression)
	if err != nil {
		return err
	}
	bw := bufio.NewWriter(zw)
	bw.WriteString(modelMagic)
	binary.Write(bw, binary.LittleEndian, uint32(len(hdr)))
	bw.Write(hdr)
	for _, v := range m.weights {
		bw.WriteByte(byte(v))
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	return zw.Close()
}

// Decode reads a model file written by Encode.
func Decode(r io.Reader) (*Model, error) {
	zr, err := gzip.NewReader(r)
	if err != nil {
		return nil, fmt.Errorf("model: %w", err)
	}
	br := bufio.NewReader(zr)
	var head [8]byte
	if _, err := io.ReadFull(br, head[:]); err != nil {
		return nil, fmt.Errorf("model: header: %w", err)
	}
	if string(head[:4]) != modelMagic {
		return nil, errors.New("model: not a schoolwatch model file")
	}
	n := binary.LittleEndian.Uint32(head[4:])
	if n > maxHeader {
		return nil, fmt.Errorf("model: header of %d bytes", n)
	}
	hdr := make([]byte, n)
	if _, err := io.ReadFull(br, hdr); err != nil {
		return nil, fmt.Errorf("model: header: %w", err)
	}
	var meta Meta
	dec := json.NewDecoder(bytes.NewReader(hdr))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&meta); err != nil {
		return nil, fmt.Errorf("model: header: %w", err)
	}
	if err := meta.check(); err != nil {
		return nil, fmt.Errorf("model: %w", err)
	}
	weights := make([]int8, (1<<meta.Features.Bits)*len(meta.Categories))
	buf := make([]byte, len(weights))
	if _, err := io.ReadFull(br, buf); err != nil {
		return nil, fmt.Errorf("model: weights: %w", err)
	}
	if _, err := br.ReadByte(); err != io.EOF {
		return nil, errors.New("model: trailing data after the weights")
	}
	for i, b := range buf {
		weights[i] = int8(b)
	}
	return newModel(meta, weights), nil
}

func (meta *Meta) check() error {
	k := len(meta.Categories)
	f := meta.Features
	switch {
	case meta.Version != modelVersion:
		return fmt.Errorf("version %d, want %d", meta.Version, modelVersion)
	case k == 0:
		return errors.New("no categories")
	case len(meta.Scales) != k || len(meta.Biases) != k || len(meta.Thresholds) != k:
		return errors.New("scales, biases and thresholds must have one entry per category")
	case f.Bits < 8 || f.Bits > maxBits:
		return fmt.Errorf("features: bits %d outside 8..%d", f.Bits, maxBits)
	case f.CharMin < 1 || f.CharMax < f.CharMin || f.CharMax > 8:
		return fmt.Errorf("features: character n-grams %d..%d", f.CharMin, f.CharMax)
	case f.MaxWordLen < 1 || f.MaxWords < 1:
		return errors.New("features: max_word and max_words must be positive")
	}
	return nil
}
