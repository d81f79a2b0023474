package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/schoolwatch/schoolwatch/gias/giastest"
)

// laRow is an establishment of the test register.
func laRow(urn, name, la, status, town, website string) giastest.Row {
	return giastest.Row{
		"URN": urn, "EstablishmentName": name, "LA (name)": la, "EstablishmentStatus (name)": status,
		"PhaseOfEducation (name)": "Primary", "TypeOfEstablishment (name)": "Voluntary aided school",
		"Town": town, "Locality": "", "Address3": "", "Postcode": "CT20 2RB", "SchoolWebsite": website,
		"Trusts (name)": "", "HeadTitle (name)": "Mrs", "HeadFirstName": "Zoë", "HeadLastName": "O’Brien",
	}
}

// TestImportGIASThenCheckAndExplain is the local-authority path end to
// end: import the register (Windows-1252, two LAs, closed and proposed
// schools, a malformed row), load the result through schools_file, check
// it, and have explain recognise the imported schools by name.
func TestImportGIASThenCheckAndExplain(t *testing.T) {
	dir := t.TempDir()
	reg := giastest.Generate(giastest.Options{Open: 60, LAs: []string{"Kent", "Medway"}, Seed: 5, Malformed: 1, Extra: []giastest.Row{
		laRow("900001", "St Mary’s Church of England Primary School", "Kent", "Open", "Folkestone", "http://www.stmarys-folkestone.kent.sch.uk/"),
		laRow("900002", "Brontë Kingsmead Academy", "Kent", "Open, but proposed to close", "Dover", "www.bronte-kingsmead.org.uk"),
		laRow("900003", "Saltmarsh Closed Primary School", "Kent", "Closed", "Deal", ""),
		laRow("900004", "Hazelbrook Proposed Free School", "Kent", "Proposed to open", "Deal", ""),
		laRow("900005", "Rochester Riverside Primary School", "Medway", "Open", "Rochester", "www.riverside.medway.sch.uk"),
	}})
	csvPath := filepath.Join(dir, "edubasealldata20260105.csv")
	if err := os.WriteFile(csvPath, reg.Data, 0o600); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(reg.Data), "Brontë") || !strings.Contains(string(reg.Data), "Bront\xeb") {
		t.Fatal("the register is not in Windows-1252")
	}

	stdout, stderr, code := run(t, "import", "gias", "-la", "Kent", "-leader", "head=head@{domain}", "-leader", "dsl=dsl-{urn}@la.example.gov.uk", csvPath)
	if code != 0 {
		t.Fatalf("import exit %d\n%s", code, stderr)
	}
	for _, want := range []string{
		"edubasealldata20260105.csv:" + strconv.Itoa(reg.MalformedLines[0]) + ": malformed row skipped",
		"schools from", "(Windows-1252)",
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	for _, gone := range []string{"900003", "900004", "900005", "Closed Primary", "Rochester"} {
		if strings.Contains(stdout, gone) {
			t.Errorf("the import holds %q: closed, proposed and Medway schools must be left out", gone)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "schools.yml"), []byte(stdout), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "schoolwatch.yml")
	if err := os.WriteFile(cfg, []byte(`store: { path: var/schoolwatch.db }
http: { listen: "off" }
mail: { dir: var/mail, fallback: safeguarding@la.example.gov.uk }
schools_file: schools.yml
observers:
  - { address: safeguarding@la.example.gov.uk, severities: [critical] }
feeds:
  - id: news
    url: "https://news.google.com/rss/search?q=%22{{ .Short }}%22+{{ .Town }}"
    per_school: true
`), 0o600); err != nil {
		t.Fatal(err)
	}
	kent := 2
	for _, r := range reg.Open {
		if r["LA (name)"] == "Kent" && !strings.HasPrefix(r["URN"], "9000") {
			kent++
		}
	}
	stdout, stderr, code = run(t, "check", "-config", cfg)
	if code != 0 {
		t.Fatalf("check exit %d\n%s%s", code, stdout, stderr)
	}
	if want := ": OK: " + strconv.Itoa(kent) + " schools, 1 feeds (" + strconv.Itoa(kent) + " to poll)"; !strings.Contains(stdout, want) {
		t.Errorf("check says %q, want %q", stdout, want)
	}

	for _, tc := range []struct{ text, want string }{
		{"A Folkestone parent says St Mary's Church of England Primary School ignored her complaint", "900001 St Mary’s Church of England Primary School (Folkestone)"},
		{"Brontë Kingsmead Academy in the news again", "900002 Brontë Kingsmead Academy (Dover)"},
		{"posted on stmarys-folkestone.kent.sch.uk today", "900001 St Mary’s Church of England Primary School"},
	} {
		stdout, stderr, code = run(t, "explain", "-config", cfg, tc.text)
		if code != 0 {
			t.Fatalf("explain exit %d\n%s", code, stderr)
		}
		if mentioned := mentionedSection(stdout); !strings.Contains(mentioned, tc.want) {
			t.Errorf("explain %q does not name %q:\n%s", tc.text, tc.want, mentioned)
		}
	}
	stdout, _, _ = run(t, "explain", "-config", cfg, "Saltmarsh Closed Primary School and Rochester Riverside Primary School")
	if mentioned := mentionedSection(stdout); !strings.Contains(mentioned, "Schools mentioned: none") {
		t.Errorf("a closed school or another LA's is recognised:\n%s", mentioned)
	}
}

// mentionedSection is the "Schools mentioned" part of explain's report,
// without the near misses.
func mentionedSection(report string) string {
	_, s, _ := strings.Cut(report, "Schools mentioned:")
	s, _, _ = strings.Cut(s, "\n\n")
	return "Schools mentioned:" + s
}

// TestImportUsage: a wrong command line exits 2 and says why; a typo in
// an LA exits 1 naming the LA the file has.
func TestImportUsage(t *testing.T) {
	dir := t.TempDir()
	csvPath := filepath.Join(dir, "g.csv")
	reg := giastest.Generate(giastest.Options{Open: 5, LAs: []string{"Kent"}, Seed: 1})
	if err := os.WriteFile(csvPath, reg.Data, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"import"}, 2, "usage: schoolwatch import gias"},
		{[]string{"import", "edubase", csvPath}, 2, "usage: schoolwatch import gias"},
		{[]string{"import", "gias"}, 2, "give one establishment CSV file"},
		{[]string{"import", "gias", "-leader", "head=head@{website}", csvPath}, 2, "unknown placeholder {website}"},
		{[]string{"import", "gias", "-la", "Kentt", csvPath}, 1, `-la "kentt": no row's LA (name) is that (did you mean "Kent"?)`},
		{[]string{"import", "gias", "-phase", "Nursery", csvPath}, 1, "no row's PhaseOfEducation (name) is that"},
		{[]string{"import", "gias", filepath.Join(dir, "missing.csv")}, 1, "no such file"},
	} {
		stdout, stderr, code := run(t, tc.args...)
		if code != tc.code || !strings.Contains(stderr, tc.want) || stdout != "" {
			t.Errorf("%v: exit %d, stdout %q, stderr:\n%s\nwant exit %d and %q", tc.args, code, stdout, stderr, tc.code, tc.want)
		}
	}
	_, stderr, code := run(t, "import", "gias", "-leader", "safeguarding=sg@la.example.gov.uk", csvPath)
	if code != 0 || !strings.Contains(stderr, `"safeguarding" is not a built-in role; list it under roles: in the config`) {
		t.Errorf("an unknown role: exit %d\n%s", code, stderr)
	}
}

// TestImportKeep: a re-import with -keep keeps the review's edits and
// names the schools that left the register.
func TestImportKeep(t *testing.T) {
	dir := t.TempDir()
	csvPath := filepath.Join(dir, "g.csv")
	write := func(path, s string) {
		t.Helper()
		if err := os.WriteFile(path, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	reg := giastest.Generate(giastest.Options{Extra: []giastest.Row{
		laRow("900001", "Kingsmead Primary School", "Kent", "Open", "Folkestone", "www.kingsmead.sch.uk"),
		laRow("900002", "Sandgate Primary School", "Kent", "Open", "Folkestone", "www.sandgate.sch.uk"),
	}})
	write(csvPath, string(reg.Data))
	first, stderr, code := run(t, "import", "gias", "-leader", "head=head@{domain}", csvPath)
	if code != 0 {
		t.Fatal(stderr)
	}
	reviewed := strings.Replace(first, `    name: "Sandgate Primary School"`, `    name: "Sandgate Primary School"`+"\n    paused: true\n    hashtags: [\"#SandgatePrimary\"]", 1)
	write(filepath.Join(dir, "schools.yml"), reviewed)

	reg = giastest.Generate(giastest.Options{Extra: []giastest.Row{
		laRow("900002", "Sandgate Primary School", "Kent", "Open", "Folkestone", "www.sandgate.sch.uk"),
		laRow("900003", "Hawkinge Primary School", "Kent", "Open", "Folkestone", ""),
	}})
	write(csvPath, string(reg.Data))
	next, stderr, code := run(t, "import", "gias", "-leader", "head=head@{domain}", "-keep", filepath.Join(dir, "schools.yml"), csvPath)
	if code != 0 {
		t.Fatal(stderr)
	}
	for _, want := range []string{`school 900001 "Kingsmead Primary School" is no longer open`, "1 schools carried over (1 with hand edits kept), 1 new, 1 gone"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	for _, want := range []string{`hashtags: ["#SandgatePrimary"]`, "paused: true", `id: "900003"`} {
		if !strings.Contains(next, want) {
			t.Errorf("the re-import lacks %q:\n%s", want, next)
		}
	}
}

// TestReadmeLocalAuthorityExamples loads the YAML examples of the README's
// "Running it for a local authority" with schools imported from a
// register, so the runbook's snippets stay valid.
func TestReadmeLocalAuthorityExamples(t *testing.T) {
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(b), "\n## Running it for a local authority\n")
	if !ok {
		t.Fatal("the README has no section \"Running it for a local authority\"")
	}
	section, _, _ = strings.Cut(section, "\n## ")
	dir := t.TempDir()
	reg := giastest.Generate(giastest.Options{Open: 30, LAs: []string{"Kent"}, Seed: 2})
	csvPath := filepath.Join(dir, "register.csv")
	if err := os.WriteFile(csvPath, reg.Data, 0o600); err != nil {
		t.Fatal(err)
	}
	schools, stderr, code := run(t, "import", "gias", "-la", "Kent", "-leader", "head=head@{domain}", "-leader", "dsl=Safeguarding lead <dsl-{urn}@kent.gov.uk>", csvPath)
	if code != 0 {
		t.Fatal(stderr)
	}
	if err := os.WriteFile(filepath.Join(dir, "schools.yml"), []byte(schools), 0o600); err != nil {
		t.Fatal(err)
	}
	blocks := 0
	for rest := section; ; {
		_, after, ok := strings.Cut(rest, "```yaml\n")
		if !ok {
			break
		}
		block, tail, _ := strings.Cut(after, "```")
		rest = tail
		blocks++
		cfg := block
		if !strings.Contains(block, "schools_file:") {
			cfg = "store: { path: var/sw.db }\nmail: { fallback: safeguarding@kent.gov.uk }\nschools_file: schools.yml\n" + block
		}
		path := filepath.Join(dir, "c"+strconv.Itoa(blocks)+".yml")
		if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
			t.Fatal(err)
		}
		if stdout, stderr, code := run(t, "check", "-config", path); code != 0 {
			t.Errorf("README example %d does not load:\n%s\n%s%s", blocks, block, stdout, stderr)
		}
	}
	if blocks < 3 {
		t.Errorf("found %d YAML examples in the section, want the config, feeds and observers ones", blocks)
	}
}

// TestImportKeepIsNotStdout: `-keep schools.yml > schools.yml` would read
// the file the shell has just emptied; import says so instead.
func TestImportKeepIsNotStdout(t *testing.T) {
	dir := t.TempDir()
	csvPath := filepath.Join(dir, "g.csv")
	if err := os.WriteFile(csvPath, giastest.Generate(giastest.Options{Open: 3, Seed: 1}).Data, 0o600); err != nil {
		t.Fatal(err)
	}
	keep := filepath.Join(dir, "schools.yml")
	out, err := os.Create(keep)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	var errb strings.Builder
	code := Main(t.Context(), []string{"import", "gias", "-keep", keep, csvPath}, out, &errb)
	if code != 2 || !strings.Contains(errb.String(), "is also standard output") {
		t.Errorf("exit %d:\n%s", code, errb.String())
	}
}
