// Command train makes classify's model from the labelled corpus:
//
//	go run ./classify/cmd/train            # train on the fixed splits, calibrate, write classify/model.bin
//	go run ./classify/cmd/train -split     # first re-split the corpus into classify/testdata/{train,dev,test}.txt
//
// The split is fixed once and kept in the repository; -split is for when the
// corpus grows (a post's split depends only on its own text, so old posts
// keep theirs). Training reads train.txt, calibrates on dev.txt and never
// reads test.txt. The same inputs give the same model file, byte for byte.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"slices"

	"github.com/schoolwatch/schoolwatch/classify"
)

func main() {
	log.SetFlags(0)
	log.SetPrefix("train: ")
	var (
		split   = flag.Bool("split", false, "re-split the corpus into classify/testdata before training")
		out     = flag.String("out", "classify/model.bin", "model file to write (empty: write none)")
		root    = flag.String("root", "", "repository root (default: the directory holding go.mod, from the working directory up)")
		f       = classify.DefaultFeatures
		o       = classify.DefaultTraining
		weights = flag.String("weights", "", "experiment: group weights word,bigram,char")
	)
	flag.IntVar(&f.Bits, "bits", f.Bits, "experiment: log2 of the hash buckets")
	flag.IntVar(&f.CharMin, "char-min", f.CharMin, "experiment: shortest character n-gram")
	flag.IntVar(&f.CharMax, "char-max", f.CharMax, "experiment: longest character n-gram")
	flag.IntVar(&o.Epochs, "epochs", o.Epochs, "experiment: passes over the training split")
	flag.Float64Var(&o.LearningRate, "lr", o.LearningRate, "experiment: AdaGrad step")
	flag.Float64Var(&o.L2, "l2", o.L2, "experiment: L2 penalty")
	flag.Float64Var(&o.PositiveWeight, "posw", o.PositiveWeight, "experiment: cap on a positive example's weight")
	flag.Float64Var(&o.Clip, "clip", o.Clip, "experiment: quantile of |weight| mapped to int8 127")
	flag.Float64Var(&o.TargetPrecision, "precision", o.TargetPrecision, "target dev precision per category")
	flag.Float64Var(&o.MaxHarmless, "max-harmless", o.MaxHarmless, "cap on the share of dev's harmless posts given any category (0: none)")
	flag.Float64Var(&o.Floor, "floor", o.Floor, "experiment: lowest threshold calibration may pick")
	flag.BoolVar(&o.SchoolOnly, "school-only", o.SchoolOnly, "experiment: train and calibrate on posts that name a school only")
	flag.BoolVar(&f.MaskSchool, "mask", f.MaskSchool, "experiment: mask school names and towns")
	flag.Parse()
	if *weights != "" {
		if _, err := fmt.Sscanf(*weights, "%g,%g,%g", &f.Weights[0], &f.Weights[1], &f.Weights[2]); err != nil {
			log.Fatalf("-weights: %v", err)
		}
	}
	dir := *root
	if dir == "" {
		dir = findRoot()
	}
	splits := filepath.Join(dir, "classify", "testdata")
	if *split {
		if err := resplit(dir, splits); err != nil {
			log.Fatal(err)
		}
	}
	train, err := classify.ReadSplit(filepath.Join(splits, "train.txt"))
	if err != nil {
		log.Fatal(err)
	}
	dev, err := classify.ReadSplit(filepath.Join(splits, "dev.txt"))
	if err != nil {
		log.Fatal(err)
	}
	m, err := classify.Train(train, dev, f, o)
	if err != nil {
		log.Fatal(err)
	}
	meta := m.Meta()
	fmt.Printf("trained on %d posts, calibrated on %d (dev posts that name a school)\n", meta.TrainPosts, meta.DevPosts)
	fmt.Printf("%-22s %9s %-12s %5s %6s %6s\n", "category", "threshold", "rule", "dev+", "prec", "recall")
	for i, c := range meta.Calibration {
		fmt.Printf("%-22s %9.4f %-12s %5d %6.2f %6.2f\n", c.Category, meta.Thresholds[i], c.Rule, c.DevPositives, c.Precision, c.Recall)
	}
	devEval := slices.DeleteFunc(slices.Clone(dev), func(e classify.Example) bool { return len(e.Schools) == 0 })
	fmt.Println("\ndev split:")
	m.Evaluate(devEval).Write(os.Stdout)
	micro, macro := m.AveragePrecision(devEval)
	fmt.Printf("dev average precision: micro %.3f, macro %.3f\n", micro, macro)
	if *out == "" {
		return
	}
	var buf bytes.Buffer
	if err := m.Encode(&buf); err != nil {
		log.Fatal(err)
	}
	path := *out
	if !filepath.IsAbs(path) {
		path = filepath.Join(dir, path)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("\nwrote %s (%d bytes)\n", path, buf.Len())
}

// resplit reads the whole labelled corpus and writes the three split files.
func resplit(root, splits string) error {
	all, err := classify.ReadCorpusFiles(root)
	if err != nil {
		return err
	}
	parts, dropped := classify.SplitCorpus(all)
	for _, d := range dropped {
		log.Printf("dropped %s", d)
	}
	for _, s := range []classify.Split{classify.SplitTrain, classify.SplitDev, classify.SplitTest} {
		hdr := fmt.Sprintf("%s split of the labelled corpus, written by `go run ./classify/cmd/train -split`.\n"+
			"Do not edit: add posts to rules/testdata/corpus/ and re-split. Format: schools|categories|text.", s)
		var buf bytes.Buffer
		if err := classify.WriteCorpus(&buf, hdr, parts[s]); err != nil {
			return err
		}
		path := filepath.Join(splits, string(s)+".txt")
		if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
			return err
		}
		fmt.Printf("%s: %d posts\n", path, len(parts[s]))
	}
	return nil
}

func findRoot() string {
	dir, err := os.Getwd()
	if err != nil {
		log.Fatal(err)
	}
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d
		}
		if filepath.Dir(d) == d {
			log.Fatalf("no go.mod above %s; use -root", dir)
		}
	}
}
