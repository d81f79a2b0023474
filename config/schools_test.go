package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/schoolwatch/schoolwatch/yamlpos"
)

// writeFiles writes name → content into a new folder and returns it.
func writeFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

const importedSchools = `# written by schoolwatch import gias
schools:
  - id: "118001"
    name: Elm Primary School
    short_name: Elm
    town: Folkestone
    leaders:
      - { email: head@elm.example, roles: [head] }
  - id: "118002"
    name: Ash Academy
    town: Dover
    paused: true
    leaders:
      - { email: head@ash.example, roles: [head] }
`

func TestSchoolsFileMergesAfterInlineSchools(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"c.yml":       minimal + "schools_file: schools.yml\n",
		"schools.yml": importedSchools,
	})
	c, err := Load(filepath.Join(dir, "c.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, s := range c.Schools {
		ids = append(ids, s.ID)
	}
	if got := strings.Join(ids, ","); got != "1,118001,118002" {
		t.Fatalf("schools = %s, want the inline one then the file's", got)
	}
	if s, ok := c.School("118002"); !ok || !s.Paused || s.Name != "Ash Academy" {
		t.Errorf("School(118002) = %+v, %v", s, ok)
	}
	if s, _ := c.School("118001"); s.ShortName != "Elm" || s.Short() != "Elm" {
		t.Errorf("short name = %q", s.ShortName)
	}
	if s, _ := c.School("1"); s.Short() != "Oak Primary School" {
		t.Errorf("Short() without short_name = %q, want the name", s.Short())
	}
	if got, want := c.Where("schools[2].name"), filepath.Join(dir, "schools.yml")+":10"; got != want {
		t.Errorf("Where(schools[2].name) = %q, want %q", got, want)
	}
	if got, want := c.Where("schools[0].name"), filepath.Join(dir, "c.yml")+":3"; got != want {
		t.Errorf("Where(schools[0].name) = %q, want %q", got, want)
	}
}

// TestSchoolsFileProblemsNameTheirFile: a problem in a school from
// schools_file is reported at that file's line, with the school numbered
// as the file numbers it; a duplicate id names both files and lines.
func TestSchoolsFileProblemsNameTheirFile(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"c.yml": minimal + "schools_file: schools.yml\n",
		"schools.yml": `schools:
  - id: "2"
    name: Elm School
    leaders: [{ email: not-an-address, roles: [head] }]
  - id: "1"
    name: Oak Again
    leaders: [{ email: head@oak.example, roles: [head] }]
  - id: "3"
    name: Ash School
    twon: Dover
    leaders: [{ email: head@ash.example, roles: [headteacher] }]
`,
	})
	cfg, sch := filepath.Join(dir, "c.yml"), filepath.Join(dir, "schools.yml")
	_, err := Load(cfg)
	var errs yamlpos.Errors
	if !errors.As(err, &errs) {
		t.Fatalf("error %v is not yamlpos.Errors", err)
	}
	want := []string{
		sch + `:4: schools[0].leaders[0].email: malformed email address "not-an-address"`,
		sch + `:5: schools[1].id: duplicate id "1" (also at ` + cfg + `:2)`,
		sch + `:10: schools[2].twon: unknown key (known keys: id, name, short_name, town`,
		sch + `:11: schools[2].leaders[0].roles[0]: unknown value "headteacher"`,
	}
	if len(errs) != len(want) {
		t.Errorf("got %d problems, want %d:\n%v", len(errs), len(want), err)
	}
	for i, w := range want {
		if i < len(errs) && !strings.HasPrefix(errs[i].Error(), w) {
			t.Errorf("problem %d:\n%s\nwant it to start\n%s", i, errs[i], w)
		}
	}
}

func TestSchoolsFileRejected(t *testing.T) {
	cases := []struct {
		name, file, want string
	}{
		{"missing", "", `c.yml:6: schools_file: cannot read schools.yml: no such file or directory`},
		{"syntax", "schools:\n  - id: [\n", `schools.yml:`},
		{"not a mapping", "- id: x\n", `schools.yml:1: must be a YAML mapping with a top-level schools: list`},
		{"other keys", "schools: []\nfeeds: []\n", `schools.yml:2: feeds: unknown key (known keys: schools)`},
		{"no list", "# nothing\nfoo: 1\n", `schools.yml:1: has no top-level schools: list`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			files := map[string]string{"c.yml": minimal + "schools_file: schools.yml\n"}
			if tc.file != "" {
				files["schools.yml"] = tc.file
			}
			dir := writeFiles(t, files)
			_, err := Load(filepath.Join(dir, "c.yml"))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error:\n%v\nwant it to contain %q", err, tc.want)
			}
		})
	}
}

func TestSchoolsFileAlone(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"c.yml":       "schools_file: ${SCHOOLS_DIR}/schools.yml\n",
		"schools.yml": importedSchools,
	})
	t.Setenv("SCHOOLS_DIR", dir)
	c, err := Load(filepath.Join(dir, "c.yml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Schools) != 2 {
		t.Fatalf("%d schools, want the file's 2", len(c.Schools))
	}

	dir = writeFiles(t, map[string]string{"c.yml": "schools_file: schools.yml\n", "schools.yml": "schools: []\n"})
	_, err = Load(filepath.Join(dir, "c.yml"))
	if err == nil || !strings.Contains(err.Error(), "c.yml:1: schools_file: has no schools") {
		t.Fatalf("an empty schools file and no inline schools: %v", err)
	}
}

func TestSchoolsFileMustNotBeTheConfig(t *testing.T) {
	dir := writeFiles(t, map[string]string{"c.yml": minimal + "schools_file: c.yml\n"})
	_, err := Load(filepath.Join(dir, "c.yml"))
	if err == nil || !strings.Contains(err.Error(), "schools_file: names this config file") {
		t.Fatalf("error = %v", err)
	}
}

func TestSchoolsFileIsNotAPipe(t *testing.T) {
	dir := writeFiles(t, map[string]string{"c.yml": minimal + "schools_file: fifo\n"})
	if err := syscall.Mkfifo(filepath.Join(dir, "fifo"), 0o600); err != nil {
		t.Skip("no named pipes here:", err)
	}
	_, err := Load(filepath.Join(dir, "c.yml"))
	if err == nil || !strings.Contains(err.Error(), "named pipe") {
		t.Fatalf("error = %v", err)
	}
}

func TestObservers(t *testing.T) {
	c, err := Parse("c.yml", []byte(minimal+`observers:
  - address: "LA Safeguarding <Safeguarding@LA.example.gov.uk>"
    severities: [critical]
  - address: lado@la.example.gov.uk
    categories: [allegation, safeguarding]
`))
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Observers) != 2 {
		t.Fatalf("observers = %+v", c.Observers)
	}
	o := c.Observers[0]
	if !o.Wants("threat", "critical") || o.Wants("threat", "high") {
		t.Errorf("severities [critical]: Wants is wrong")
	}
	o = c.Observers[1]
	if !o.Wants("allegation", "low") || o.Wants("complaint", "critical") {
		t.Errorf("categories [allegation, safeguarding]: Wants is wrong")
	}

	_, err = Parse("c.yml", []byte(minimal+`observers:
  - address: not-an-address
    categories: [gossip]
    severities: [urgent]
  - categories: [threat]
`))
	want := []string{
		`c.yml:7: observers[0].address: malformed email address "not-an-address"`,
		`c.yml:8: observers[0].categories[0]: unknown value "gossip"`,
		`c.yml:9: observers[0].severities[0]: unknown value "urgent"`,
		`c.yml:10: observers[1].address: is required`,
	}
	for _, w := range want {
		if err == nil || !strings.Contains(err.Error(), w) {
			t.Errorf("error:\n%v\nwant it to contain %q", err, w)
		}
	}
}

func TestSchoolIndexSurvivesEdits(t *testing.T) {
	c, err := Parse("c.yml", []byte(minimal))
	if err != nil {
		t.Fatal(err)
	}
	c.Schools = append([]School{{ID: "0", Name: "New"}}, c.Schools...)
	if s, ok := c.School("1"); !ok || s.Name != "Oak Primary School" {
		t.Errorf("after an edit, School(1) = %+v, %v", s, ok)
	}
	if _, ok := c.School("nope"); ok {
		t.Error("School(nope) found something")
	}
	var empty Config
	if _, ok := empty.School("1"); ok {
		t.Error("an empty config has a school")
	}
}
