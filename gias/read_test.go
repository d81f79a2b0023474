package gias

import (
	"bytes"
	"slices"
	"strings"
	"testing"

	"github.com/schoolwatch/schoolwatch/gias/giastest"
)

// row is a minimal open Kent school; set overrides its columns.
func row(urn, name string, set ...string) giastest.Row {
	r := giastest.Row{
		"URN": urn, "EstablishmentName": name, "LA (name)": "Kent", "EstablishmentStatus (name)": "Open",
		"PhaseOfEducation (name)": "Primary", "TypeOfEstablishment (name)": "Community school",
		"Town": "Folkestone", "Locality": "", "Address3": "", "Postcode": "CT20 2RB", "SchoolWebsite": "",
		"Trusts (name)": "", "HeadTitle (name)": "", "HeadFirstName": "", "HeadLastName": "",
	}
	for i := 0; i+1 < len(set); i += 2 {
		r[set[i]] = set[i+1]
	}
	return r
}

func readFile(t *testing.T, f giastest.File, opts Options) *Import {
	t.Helper()
	imp, err := Read(bytes.NewReader(f.Data), opts)
	if err != nil {
		t.Fatal(err)
	}
	return imp
}

func ids(imp *Import) []string {
	var out []string
	for _, s := range imp.Schools {
		out = append(out, s.ID)
	}
	return out
}

// TestReadKeepsOpenSchoolsOfTheLA: of a register in Windows-1252 with two
// LAs, closed, proposed and malformed rows, the open (and proposed to
// close) schools of the named LA are read, by URN, with their accents
// and curly apostrophes decoded; each malformed row is a warning with its
// line, and no other row is lost.
func TestReadKeepsOpenSchoolsOfTheLA(t *testing.T) {
	f := giastest.Generate(giastest.Options{Open: 600, LAs: []string{"Kent", "Medway"}, Seed: 7, Malformed: 4})
	imp := readFile(t, f, Options{LAs: []string{"KENT"}})
	var want []string
	for _, r := range f.Open {
		if r["LA (name)"] == "Kent" {
			want = append(want, r["URN"])
		}
	}
	if got := ids(imp); !slices.Equal(got, want) {
		t.Fatalf("read %d schools, want the %d open Kent ones:\n%v\n%v", len(got), len(want), got, want)
	}
	if imp.Encoding != Windows1252 {
		t.Errorf("encoding = %s", imp.Encoding)
	}
	byURN := map[string]giastest.Row{}
	for _, r := range f.Open {
		byURN[r["URN"]] = r
	}
	accents := 0
	for _, s := range imp.Schools {
		r := byURN[s.ID]
		if s.Name != r["EstablishmentName"] || s.From.HeadLastName != r["HeadLastName"] || s.From.Status != r["EstablishmentStatus (name)"] {
			t.Errorf("URN %s: name %q head %q status %q, want %q %q %q", s.ID, s.Name, s.From.HeadLastName, s.From.Status,
				r["EstablishmentName"], r["HeadLastName"], r["EstablishmentStatus (name)"])
		}
		if strings.ContainsAny(s.Name+s.From.HeadLastName, "’àëü") {
			accents++
		}
	}
	if accents == 0 {
		t.Error("no name or head with an accent or curly apostrophe came through: the test proves nothing")
	}
	var lines []int
	for _, w := range imp.Warnings {
		if strings.Contains(w.Msg, "malformed row skipped") {
			lines = append(lines, w.Line)
		}
	}
	if !slices.Equal(lines, f.MalformedLines) {
		t.Errorf("malformed rows reported at %v, want %v", lines, f.MalformedLines)
	}
	if want := 1 + 600 + 300 + 30 + 4; imp.Rows+1 != want {
		t.Errorf("rows = %d, want %d", imp.Rows, want-1)
	}
}

// TestReadUTF8AndReorderedColumns: a copy saved as UTF-8, with its columns
// in another order, reads the same.
func TestReadUTF8AndReorderedColumns(t *testing.T) {
	opts := giastest.Options{Open: 200, LAs: []string{"Kent", "Medway"}, Seed: 3}
	a := readFile(t, giastest.Generate(opts), Options{})
	opts.UTF8, opts.Shuffle = true, true
	b := readFile(t, giastest.Generate(opts), Options{})
	if b.Encoding != UTF8 {
		t.Errorf("encoding = %s", b.Encoding)
	}
	if len(a.Schools) != 200 || len(a.Schools) != len(b.Schools) {
		t.Fatalf("%d and %d schools, want 200", len(a.Schools), len(b.Schools))
	}
	for i := range a.Schools {
		x, y := a.Schools[i], b.Schools[i]
		x.From.Line, y.From.Line = 0, 0
		if x.From != y.From || x.Name != y.Name || !slices.Equal(x.Context, y.Context) {
			t.Fatalf("school %d differs:\n%+v\n%+v", i, x.From, y.From)
		}
	}
}

func TestReadFilters(t *testing.T) {
	f := giastest.Generate(giastest.Options{Extra: []giastest.Row{
		row("1", "Oak Primary School"),
		row("2", "Elm Primary School", "EstablishmentStatus (name)", "Closed"),
		row("3", "Ash Primary School", "EstablishmentStatus (name)", "Proposed to open"),
		row("4", "Fir Primary School", "EstablishmentStatus (name)", "Open, but proposed to close"),
		row("5", "Yew Academy", "PhaseOfEducation (name)", "Secondary"),
		row("6", "Bay Primary School", "LA (name)", "Medway"),
		row("7", "Kings Hill School", "LA (name)", "Medway", "PhaseOfEducation (name)", "All-through"),
	}})
	cases := []struct {
		name string
		opts Options
		want []string
	}{
		{"everything open", Options{}, []string{"1", "4", "5", "6", "7"}},
		{"one LA", Options{LAs: []string{"Kent"}}, []string{"1", "4", "5"}},
		{"two LAs, any case", Options{LAs: []string{"kent", " MEDWAY "}}, []string{"1", "4", "5", "6", "7"}},
		{"phase", Options{Phases: []string{"secondary", "All-through"}}, []string{"5", "7"}},
		{"LA and phase", Options{LAs: []string{"Medway"}, Phases: []string{"Primary"}}, []string{"6"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := ids(readFile(t, f, tc.opts)); !slices.Equal(got, tc.want) {
				t.Errorf("schools = %v, want %v", got, tc.want)
			}
		})
	}
	for _, tc := range []struct {
		opts Options
		want string
	}{
		{Options{LAs: []string{"Kent County"}}, `-la "kent county": no row's LA (name) is that (did you mean "Kent"?)`},
		{Options{Phases: []string{"Infant"}}, `-phase "infant": no row's PhaseOfEducation (name) is that`},
	} {
		_, err := Read(bytes.NewReader(f.Data), tc.opts)
		if err == nil || err.Error() != tc.want {
			t.Errorf("%+v: error = %v, want %s", tc.opts, err, tc.want)
		}
	}
}

func TestIsOpen(t *testing.T) {
	for status, want := range map[string]bool{
		"Open": true, "open": true, "Open, but proposed to close": true, "Open but proposed to close": true,
		"Closed": false, "Proposed to open": false, "": false, "Opening": false,
	} {
		if IsOpen(status) != want {
			t.Errorf("IsOpen(%q) = %v", status, !want)
		}
	}
}

func TestReadRejectsOtherFiles(t *testing.T) {
	for name, tc := range map[string]struct{ data, want string }{
		"empty":      {"", "the file is empty"},
		"not GIAS":   {"id,name\n1,Oak\n", "the header has no URN, EstablishmentName, EstablishmentStatus (name), LA (name) column"},
		"UTF-16":     {"\xFF\xFEU\x00R\x00N\x00", "the file is UTF-16"},
		"one column": {"URN,EstablishmentName,LA (name)\n", "the header has no EstablishmentStatus (name) column"},
	} {
		_, err := Read(strings.NewReader(tc.data), Options{})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error = %v, want %q", name, err, tc.want)
		}
	}
}

// TestReadRowProblems: rows the register should not have are skipped with
// a warning naming their line; the rows around them are kept.
func TestReadRowProblems(t *testing.T) {
	f := giastest.Generate(giastest.Options{Extra: []giastest.Row{
		row("1", "Oak Primary School"),
		row("x12", "Bad URN School"),
		row("3", ""),
		row("1", "Oak Again Primary School"),
		row("5", "Elm Primary School", "SchoolWebsite", "http//elm"),
	}})
	imp := readFile(t, f, Options{})
	if got := ids(imp); !slices.Equal(got, []string{"1", "5"}) {
		t.Errorf("schools = %v", got)
	}
	var got []string
	for _, w := range imp.Warnings {
		got = append(got, w.String())
	}
	want := []string{
		`line 3: row skipped: URN "x12" is not a number`,
		`line 4: URN 3: row skipped: no EstablishmentName`,
		`line 5: URN 1: row skipped: the URN is on line 2 already`,
		`line 6: URN 5: SchoolWebsite "http//elm" is not a web address: no domain`,
	}
	if !slices.Equal(got, want) {
		t.Errorf("warnings:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestMissingOptionalColumns(t *testing.T) {
	data := "URN,EstablishmentName,EstablishmentStatus (name),LA (name)\r\n1,Oak Primary School,Open,Kent\r\n"
	imp, err := Read(strings.NewReader(data), Options{Leaders: []LeaderTemplate{{"head", "head@{domain}"}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(imp.Schools) != 1 || imp.Schools[0].Town != "" {
		t.Fatalf("schools = %+v", imp.Schools)
	}
	var got []string
	for _, w := range imp.Warnings {
		got = append(got, w.String())
	}
	if !slices.Contains(got, "the header has no SchoolWebsite column: no school gets a domain, nor a leader from a {domain} template") {
		t.Errorf("warnings = %q", got)
	}
	if _, err := Read(strings.NewReader(data), Options{Phases: []string{"Primary"}}); err == nil {
		t.Error("-phase without a PhaseOfEducation (name) column is not an error")
	}
}
