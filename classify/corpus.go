package classify

import (
	"bufio"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/schoolwatch/schoolwatch/rules"
)

// Example is one labelled post of the corpus.
type Example struct {
	Schools    []string         // IDs of the schools the post is about; none for "-"
	Categories []rules.Category // what a leader should be alerted to; none for a harmless post
	Text       string
	Source     string // "file:line", for messages

	// only narrows a category to some of the post's schools: written
	// "ID:category" in the corpus, for a post about two schools where a
	// problem belongs to one of them. A category absent here applies to
	// every school of the post.
	only map[rules.Category][]string
}

// Line returns the example in the corpus format, schools|categories|text.
func (e Example) Line() string {
	var cats []string
	for _, c := range e.Categories {
		if ids, ok := e.only[c]; ok {
			for _, id := range ids {
				cats = append(cats, id+":"+string(c))
			}
			continue
		}
		cats = append(cats, string(c))
	}
	return joinOrDash(e.Schools) + "|" + joinOrDash(cats) + "|" + e.Text
}

// Wants reports whether a leader of school id should be alerted to
// category c for this post.
func (e Example) Wants(id string, c rules.Category) bool {
	if !slices.Contains(e.Schools, id) || !e.Has(c) {
		return false
	}
	ids, ok := e.only[c]
	return !ok || slices.Contains(ids, id)
}

// CategoriesFor returns the categories school id should be alerted to.
func (e Example) CategoriesFor(id string) []rules.Category {
	var out []rules.Category
	for _, c := range e.Categories {
		if e.Wants(id, c) {
			out = append(out, c)
		}
	}
	return out
}

// Harmless reports whether no category applies to the post.
func (e Example) Harmless() bool { return len(e.Categories) == 0 }

// Has reports whether the post carries category c.
func (e Example) Has(c rules.Category) bool { return slices.Contains(e.Categories, c) }

func joinOrDash(s []string) string {
	if len(s) == 0 {
		return "-"
	}
	return strings.Join(s, ",")
}

// Categories are the categories the model scores: every rule category but
// "other", which no post is labelled with, and "mention", which is what a
// post that names a school is when it is about nothing else.
func Categories() []rules.Category {
	var out []rules.Category
	for _, c := range rules.Categories {
		if c != rules.OtherCategory && c != rules.Mention {
			out = append(out, c)
		}
	}
	return out
}

// maxTextBytes bounds one corpus line; a longer one is a writer's mistake.
const maxTextBytes = 4000

// ParseLine parses one corpus line, schools|categories|text. schools are the
// known school IDs (nil accepts any run of digits).
func ParseLine(line string, schools map[string]bool) (Example, error) {
	parts := strings.SplitN(line, "|", 3)
	if len(parts) != 3 {
		return Example{}, fmt.Errorf("want schools|categories|text, got %d field(s)", len(parts))
	}
	var e Example
	if s := strings.TrimSpace(parts[0]); s != "-" {
		for _, id := range strings.Split(s, ",") {
			id = strings.TrimSpace(id)
			if id == "" || strings.Trim(id, "0123456789") != "" {
				return Example{}, fmt.Errorf("school %q: not an ID", id)
			}
			if schools != nil && !schools[id] {
				return Example{}, fmt.Errorf("school %q: unknown", id)
			}
			if slices.Contains(e.Schools, id) {
				return Example{}, fmt.Errorf("school %q: listed twice", id)
			}
			e.Schools = append(e.Schools, id)
		}
	}
	known := Categories()
	if c := strings.TrimSpace(parts[1]); c != "-" {
		whole := map[rules.Category]bool{}
		for _, name := range strings.Split(c, ",") {
			name = strings.TrimSpace(name)
			id, catName, narrowed := strings.Cut(name, ":")
			if !narrowed {
				catName = name
			}
			cat := rules.Category(strings.TrimSpace(catName))
			if !slices.Contains(known, cat) {
				return Example{}, fmt.Errorf("category %q: unknown (known: %s)", cat, rules.Join(known))
			}
			if narrowed {
				id = strings.TrimSpace(id)
				if !slices.Contains(e.Schools, id) {
					return Example{}, fmt.Errorf("category %q: school %q is not one of the post's schools", name, id)
				}
				if whole[cat] || slices.Contains(e.only[cat], id) {
					return Example{}, fmt.Errorf("category %q: listed twice", name)
				}
				if e.only == nil {
					e.only = map[rules.Category][]string{}
				}
				e.only[cat] = append(e.only[cat], id)
			} else {
				if whole[cat] || e.only[cat] != nil {
					return Example{}, fmt.Errorf("category %q: listed twice", cat)
				}
				whole[cat] = true
			}
			if !slices.Contains(e.Categories, cat) {
				e.Categories = append(e.Categories, cat)
			}
		}
	}
	e.Text = strings.TrimSpace(parts[2])
	switch {
	case e.Text == "":
		return Example{}, fmt.Errorf("empty text")
	case strings.Contains(e.Text, "|"):
		return Example{}, fmt.Errorf("text contains '|'")
	case strings.ContainsAny(e.Text, "\t\r"):
		return Example{}, fmt.Errorf("text contains a tab or carriage return")
	case len(e.Text) > maxTextBytes:
		return Example{}, fmt.Errorf("text is %d bytes, over %d", len(e.Text), maxTextBytes)
	}
	return e, nil
}

// ReadCorpus reads a corpus file: one example a line, blank lines and lines
// starting with # skipped. name labels errors ("name:line: problem"); every
// bad line is reported, not only the first.
func ReadCorpus(r io.Reader, name string, schools map[string]bool) ([]Example, error) {
	var out []Example
	var errs []string
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimRight(sc.Text(), " \r")
		if strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#") {
			continue
		}
		e, err := ParseLine(line, schools)
		if err != nil {
			errs = append(errs, fmt.Sprintf("%s:%d: %v", name, n, err))
			continue
		}
		e.Source = fmt.Sprintf("%s:%d", name, n)
		out = append(out, e)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if len(errs) > 0 {
		return out, fmt.Errorf("%d bad line(s):\n%s", len(errs), strings.Join(errs, "\n"))
	}
	return out, nil
}

// WriteCorpus writes examples in the corpus format after a comment header.
func WriteCorpus(w io.Writer, header string, examples []Example) error {
	bw := bufio.NewWriter(w)
	for _, l := range strings.Split(strings.TrimRight(header, "\n"), "\n") {
		fmt.Fprintf(bw, "# %s\n", l)
	}
	for _, e := range examples {
		fmt.Fprintln(bw, e.Line())
	}
	return bw.Flush()
}

// Split names a part of the corpus.
type Split string

// The splits. SplitTest is never read by training or calibration.
const (
	SplitTrain Split = "train"
	SplitDev   Split = "dev"
	SplitTest  Split = "test"
)

// SplitOf returns the split a post belongs to: a stable hash of its
// normalised text, 70% train, 15% dev, 15% test. Posts that differ only in
// case, punctuation or spacing land together, so a near-duplicate cannot sit
// in train and test at once; adding posts never moves old ones.
func SplitOf(text string) Split {
	sum := sha256.Sum256([]byte(rules.Normalize(text)))
	switch b := binary.BigEndian.Uint64(sum[:8]) % 100; {
	case b < 70:
		return SplitTrain
	case b < 85:
		return SplitDev
	default:
		return SplitTest
	}
}

// SplitCorpus assigns every example to its split, dropping posts whose
// normalised text repeats an earlier one. It returns the three parts in
// input order and one message per dropped duplicate (with conflicting
// labels said so).
func SplitCorpus(all []Example) (parts map[Split][]Example, dropped []string) {
	parts = make(map[Split][]Example)
	seen := make(map[string]Example)
	for _, e := range all {
		key := rules.Normalize(e.Text)
		if first, ok := seen[key]; ok {
			msg := fmt.Sprintf("%s: duplicate of %s", e.Source, first.Source)
			if first.Line() != e.Line() {
				msg += " with different labels"
			}
			dropped = append(dropped, msg)
			continue
		}
		seen[key] = e
		s := SplitOf(e.Text)
		parts[s] = append(parts[s], e)
	}
	return parts, dropped
}
