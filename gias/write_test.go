package gias

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/schoolwatch/schoolwatch/config"
	"github.com/schoolwatch/schoolwatch/gias/giastest"
)

// writeAndLoad writes schools with Write and loads them back as a config's
// schools_file.
func writeAndLoad(t *testing.T, header string, schools []School) (*config.Config, string) {
	t.Helper()
	var b bytes.Buffer
	if err := Write(&b, header, schools); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "schools.yml"), b.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "c.yml")
	if err := os.WriteFile(path, []byte("mail: { fallback: la@example.org }\nschools_file: schools.yml\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := config.Load(path)
	if err != nil {
		t.Fatalf("%v\n%s", err, b.String())
	}
	return c, b.String()
}

// TestWriteRoundTrips: what Write writes, config loads back as it was,
// whatever the names hold.
func TestWriteRoundTrips(t *testing.T) {
	f := giastest.Generate(giastest.Options{Open: 300, LAs: []string{"Kent"}, Seed: 11})
	imp := readFile(t, f, Options{Leaders: []LeaderTemplate{{"head", "head@{domain}"}, {"dsl", "DSL <dsl-{urn}@la.example.gov.uk>"}}})
	odd := School{From: Establishment{Line: 1, Type: "Type\nwith: a newline", LA: "Kent"}}
	odd.School = config.School{ID: "0123", Name: `Yes`, ShortName: "#1 Academy", Town: "No: really", Aliases: []string{`"Quoted"`, "back\\slash", "tab\there", "null", "~", "- dash"},
		Context: []string{"{brace}", "[bracket]", "&anchor", "*star", "% pct", "@at", "`tick"}, Hashtags: []string{"#tag"}, Paused: true,
		Leaders: []config.Leader{{Name: "O’Brien, Jane", Email: "j@x.example", Roles: []string{"head", "dsl"}, DigestOnly: true}}}
	schools := append([]School{odd}, imp.Schools...)
	c, out := writeAndLoad(t, "line one\nline two: with a colon", schools)
	if !strings.HasPrefix(out, "# line one\n# line two: with a colon\nschools:\n  # Type with: a newline · Kent\n") {
		t.Errorf("output starts:\n%s", out[:min(len(out), 200)])
	}
	if len(c.Schools) != len(schools) {
		t.Fatalf("%d schools loaded, %d written", len(c.Schools), len(schools))
	}
	for i, s := range schools {
		got, want := c.Schools[i], s.School
		if got.ID != want.ID || got.Name != want.Name || got.ShortName != want.ShortName || got.Town != want.Town || got.Paused != want.Paused ||
			!slices.Equal(got.Aliases, want.Aliases) || !slices.Equal(got.Context, want.Context) || !slices.Equal(got.Domains, want.Domains) ||
			!slices.Equal(got.Hashtags, want.Hashtags) || len(got.Leaders) != len(want.Leaders) {
			t.Fatalf("school %d:\nloaded %+v\nwrote  %+v", i, got, want)
		}
		for j, l := range want.Leaders {
			g := got.Leaders[j]
			if g.Name != l.Name || g.Email != l.Email || !slices.Equal(g.Roles, l.Roles) || g.DigestOnly != l.DigestOnly {
				t.Fatalf("school %d leader %d: loaded %+v, wrote %+v", i, j, g, l)
			}
		}
	}
}

func TestWriteNoSchools(t *testing.T) {
	var b bytes.Buffer
	if err := Write(&b, "", nil); err != nil || b.String() != "schools: []\n" {
		t.Errorf("Write(nil) = %q, %v", b.String(), err)
	}
}

// TestKeepCarriesHandEdits: a re-import keeps what a reviewer added to the
// previous import and takes the rest afresh from the register; schools
// that left the register are reported.
func TestKeepCarriesHandEdits(t *testing.T) {
	templates := []LeaderTemplate{{"head", "head@{domain}"}}
	register := func(rows ...giastest.Row) []School {
		return readFile(t, giastest.Generate(giastest.Options{Extra: rows}), Options{Leaders: templates}).Schools
	}
	first := register(
		row("1", "St Mary's Church of England Primary School", "SchoolWebsite", "www.stmarys.sch.uk"),
		row("2", "Elm Primary School", "SchoolWebsite", "www.elm.sch.uk"),
		row("3", "Ash Primary School"),
	)
	var prev []config.School
	for _, s := range first {
		prev = append(prev, s.School)
	}
	// The review: pause Elm, give St Mary's a hashtag, an alias, a better
	// short name and a chair of governors.
	prev[0].Hashtags = []string{"#StMarysFolkestone"}
	prev[0].Aliases = append(prev[0].Aliases, "St Mary's Cheriton")
	prev[0].ShortName = "St Mary's CE"
	prev[0].Leaders = append(prev[0].Leaders, config.Leader{Name: "C Chair", Email: "chair@example.org", Roles: []string{"chair"}})
	prev[1].Paused = true

	// A month on: St Mary's has a new head and town, Ash has closed, Oak has opened.
	next := register(
		row("1", "St Mary's Church of England Primary School", "SchoolWebsite", "www.stmarys.sch.uk", "Town", "Hythe", "HeadLastName", "New"),
		row("2", "Elm Primary School", "SchoolWebsite", "www.elm.sch.uk"),
		row("4", "Oak Primary School"),
	)
	k := Keep(next, prev, templates)
	if k.Schools != 2 || k.Edited != 2 || len(k.New) != 1 || k.New[0].ID != "4" || len(k.Gone) != 1 || k.Gone[0].ID != "3" {
		t.Errorf("kept = %d schools, %d edited, new %v, gone %v", k.Schools, k.Edited, k.New, k.Gone)
	}
	sm := next[0].School
	if sm.Town != "Hythe" || sm.ShortName != "St Mary's CE" || !slices.Equal(sm.Hashtags, []string{"#StMarysFolkestone"}) ||
		!slices.Equal(sm.Aliases, []string{"St Mary's Hythe", "St Mary's Cheriton"}) {
		t.Errorf("St Mary's = %+v", sm)
	}
	var leaders []string
	for _, l := range sm.Leaders {
		leaders = append(leaders, l.Email+" "+strings.Join(l.Roles, ","))
	}
	if !slices.Equal(leaders, []string{"head@stmarys.sch.uk head", "chair@example.org chair"}) {
		t.Errorf("St Mary's leaders = %v", leaders)
	}
	if !next[1].Paused || next[2].Paused {
		t.Errorf("paused: Elm %v, Oak %v", next[1].Paused, next[2].Paused)
	}
}
