package classify

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
)

// The labelled corpus, relative to the repository root: the rules' own
// corpus and the files written for the model.
const (
	corpusFile = "rules/testdata/corpus.txt"
	corpusDir  = "rules/testdata/corpus"
)

// ReadCorpusFiles reads the whole labelled corpus under the repository root
// root: rules/testdata/corpus.txt, then rules/testdata/corpus/*.txt in name
// order. Every bad line of every file is reported.
func ReadCorpusFiles(root string) ([]Example, error) {
	paths, err := filepath.Glob(filepath.Join(root, corpusDir, "*.txt"))
	if err != nil {
		return nil, err
	}
	slices.Sort(paths)
	paths = append([]string{filepath.Join(root, corpusFile)}, paths...)
	var all []Example
	var errs []error
	for _, p := range paths {
		es, err := readFile(p, filepath.ToSlash(mustRel(root, p)))
		all = append(all, es...)
		if err != nil {
			errs = append(errs, err)
		}
	}
	return all, errors.Join(errs...)
}

// ReadSplit reads one split file (classify/testdata/train.txt...).
func ReadSplit(path string) ([]Example, error) {
	return readFile(path, filepath.Base(path))
}

func readFile(path, name string) ([]Example, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return ReadCorpus(f, name, corpusSchoolIDs())
}

func mustRel(root, p string) string {
	if r, err := filepath.Rel(root, p); err == nil {
		return r
	}
	return p
}
