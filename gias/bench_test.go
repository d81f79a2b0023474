package gias

import (
	"bytes"
	"io"
	"testing"

	"github.com/schoolwatch/schoolwatch/gias/giastest"
)

// benchmarkImport measures `schoolwatch import gias` without the process:
// reading a register with open schools in one LA of two (and the closed
// and proposed rows a real file has), and writing the schools_file.
func benchmarkImport(b *testing.B, open int) {
	f := giastest.Generate(giastest.Options{Open: open * 2, LAs: []string{"Kent", "Medway"}, Seed: 1})
	opts := Options{LAs: []string{"Kent"}, Leaders: []LeaderTemplate{{"head", "head@{domain}"}, {"dsl", "dsl-{urn}@la.example.gov.uk"}}}
	b.SetBytes(int64(len(f.Data)))
	b.ReportAllocs()
	for b.Loop() {
		imp, err := Read(bytes.NewReader(f.Data), opts)
		if err != nil {
			b.Fatal(err)
		}
		if len(imp.Schools) != open {
			b.Fatalf("%d schools, want %d", len(imp.Schools), open)
		}
		if err := Write(io.Discard, "", imp.Schools); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkImport600(b *testing.B)   { benchmarkImport(b, 600) }
func BenchmarkImport25000(b *testing.B) { benchmarkImport(b, 25000) }
