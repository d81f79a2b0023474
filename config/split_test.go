package config

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// parseBothWays parses data item by item and whole, and returns both.
func parseBothWays(t *testing.T, data string) (split, whole *Config, splitErr, wholeErr error) {
	t.Helper()
	defer func(n int) { splitMinItems = n }(splitMinItems)
	splitMinItems = 1
	split, splitErr = Parse("c.yml", []byte(data))
	splitMinItems = 1 << 30
	whole, wholeErr = Parse("c.yml", []byte(data))
	return
}

// tookSplit reports whether data would be decoded item by item.
func tookSplit(data string) bool {
	lines := bytes.SplitAfter([]byte(data), []byte("\n"))
	blocks := findBlocks(lines, splitKeys, 1)
	if len(blocks) == 0 {
		return false
	}
	c := &Config{File: "c.yml", pos: newPositions()}
	_, ok := decodeSplit(lines, blocks, c, reflect.TypeOf(Config{}), c.pos, c.Errorf)
	return ok
}

func schoolsYAML(n int, indent string) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "%s- id: \"%d\"\n%s  name: School %d\n%s  # a comment\n\n%s  aliases: [\"Alias %d\"]\n%s  leaders:\n%s    - { email: h%d@example.org, roles: [head] }\n",
			indent, i, indent, i, indent, indent, i, indent, indent, i)
	}
	return b.String()
}

// TestSplitDecodesAsWhole: decoding the lists item by item gives the same
// config, the same lines and the same problems as decoding the document
// whole.
func TestSplitDecodesAsWhole(t *testing.T) {
	feeds := "feeds:\n  - { id: a, url: \"https://example.org/a.xml\" }\n  - id: b\n    url: https://example.org/b.xml\n    schedule: \"@every 5m\"\n"
	cases := map[string]string{
		"indented": "# top\nmail: { fallback: la@example.org }\nschools:\n" + schoolsYAML(5, "  ") + feeds + "rules:\n  - { id: r, query: knife }\n",
		"flush":    "schools:\n" + schoolsYAML(3, "") + "mail:\n  fallback: la@example.org\n" + feeds,
		"problems": "mail: { fallback: la@example.org }\nschools:\n" + schoolsYAML(2, "  ") +
			"  - id: \"9\"\n    name: Bad\n    twon: X\n    leaders: [{ email: nope, roles: [head] }]\n" + schoolsYAML(1, "  ") +
			"  - id: \"0\"\n    name: Dup\n" + feeds + "  - { id: c, url: \"ftp://x\", nope: 1 }\n",
		"crlf":      strings.ReplaceAll("mail: { fallback: la@example.org }\nschools:\n"+schoolsYAML(3, "  "), "\n", "\r\n"),
		"last line": "mail: { fallback: la@example.org }\nschools:\n  - { id: \"1\", name: Oak }\n  - { id: \"2\", name: Elm }",
	}
	for name, data := range cases {
		t.Run(name, func(t *testing.T) {
			if !tookSplit(data) {
				t.Fatal("the plain layout was not split")
			}
			split, whole, se, we := parseBothWays(t, data)
			if fmt.Sprint(se) != fmt.Sprint(we) {
				t.Fatalf("problems differ:\nsplit:\n%v\nwhole:\n%v", se, we)
			}
			if we != nil {
				if name != "problems" {
					t.Fatal(we)
				}
				for _, want := range []string{"c.yml:19: schools[2].twon: unknown key", `c.yml:20: schools[2].leaders[0].email: malformed email address "nope"`, `c.yml:28: schools[4].id: duplicate id "0" (also at c.yml:3)`, "c.yml:35: feeds[2].nope: unknown key"} {
					if !strings.Contains(we.Error(), want) {
						t.Errorf("problems lack %q:\n%v", want, we)
					}
				}
				return
			}
			// The YAML library counts a blank CRLF line twice: split, the
			// miscount stays inside one item, so only values are compared.
			// A loaded config keeps the lines of the keys outside split
			// lists only (the lines inside are found again on a problem,
			// which the "problems" case compares).
			samePos := true
			for k, line := range whole.pos.Lines {
				if !strings.Contains(k, "[") && split.pos.Lines[k] != line && name != "crlf" {
					samePos = false
				}
			}
			if !reflect.DeepEqual(split.Schools, whole.Schools) || !reflect.DeepEqual(split.Feeds, whole.Feeds) || !samePos {
				t.Errorf("configs differ:\n%+v\n%+v\n%v\n%v", split.Schools, whole.Schools, split.pos, whole.pos)
			}
		})
	}
}

// TestSplitFallsBack: what an item cannot be read as on its own, the
// document is parsed whole for.
func TestSplitFallsBack(t *testing.T) {
	cases := map[string]string{
		"alias of another item": "mail: { fallback: la@example.org }\nschools:\n  - id: \"1\"\n    name: Oak\n    leaders: &l [{ email: h@example.org, roles: [head] }]\n  - id: \"2\"\n    name: Elm\n    leaders: *l\n",
		"alias of a top anchor": "x: &l [{ email: h@example.org, roles: [head] }]\nschools:\n  - { id: \"1\", name: Oak, leaders: *l }\n  - { id: \"2\", name: Elm, leaders: *l }\n",
		"quote over lines":      "mail: { fallback: la@example.org }\nschools:\n  - id: \"1\"\n    name: \"Oak\n  - x\"\n  - { id: \"2\", name: Elm }\n",
	}
	for name, data := range cases {
		t.Run(name, func(t *testing.T) {
			if tookSplit(data) {
				t.Fatal("split, though an item cannot be read alone")
			}
			split, whole, se, we := parseBothWays(t, data)
			if fmt.Sprint(se) != fmt.Sprint(we) || (we == nil && !reflect.DeepEqual(split.Schools, whole.Schools)) {
				t.Errorf("split and whole differ:\n%v\n%v", se, we)
			}
		})
	}
	// The top-anchor case is an unknown key "x", but its leaders decode.
	_, whole, _, _ := parseBothWays(t, "mail: { fallback: la@example.org }\nschools:\n  - id: \"1\"\n    name: Oak\n    leaders: &l [{ email: h@example.org, roles: [head] }]\n  - id: \"2\"\n    name: Elm\n    leaders: *l\n")
	if whole == nil || len(whole.Schools) != 2 || len(whole.Schools[1].Leaders) != 1 {
		t.Errorf("the alias was not decoded: %+v", whole)
	}
	for name, data := range map[string]string{
		"document marker": "---\nschools:\n  - { id: \"1\", name: Oak }\n",
		"duplicate key":   "schools:\n  - { id: \"1\", name: Oak }\nschools:\n  - { id: \"2\", name: Elm }\n",
		"flow list":       "schools: [{ id: \"1\", name: Oak }]\n",
	} {
		if tookSplit(data) {
			t.Errorf("%s: split", name)
		}
	}
}

// TestSplitSchoolsFile: a long schools_file is split too, with problems at
// its own lines.
func TestSplitSchoolsFile(t *testing.T) {
	defer func(n int) { splitMinItems = n }(splitMinItems)
	splitMinItems = 2
	dir := t.TempDir()
	sch := "# imported\nschools:\n" + schoolsYAML(3, "  ") + "  - id: \"x\"\n    name: Bad\n    leaders: [{ email: nope, roles: [head] }]\n"
	if err := os.WriteFile(filepath.Join(dir, "schools.yml"), []byte(sch), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "c.yml"), []byte("mail: { fallback: la@example.org }\nschools_file: schools.yml\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Load(filepath.Join(dir, "c.yml"))
	want := filepath.Join(dir, "schools.yml") + `:26: schools[3].leaders[0].email: malformed email address "nope"`
	if err == nil || err.Error() != want {
		t.Errorf("error:\n%v\nwant\n%s", err, want)
	}
}

// FuzzSplit: whatever the document, decoding its schools item by item
// never panics, accepts the config exactly when the whole decode does, and
// then agrees with it on every school.
func FuzzSplit(f *testing.F) {
	for _, s := range []string{
		"mail: { fallback: la@example.org }\nschools:\n" + schoolsYAML(3, "  "),
		"schools:\n" + schoolsYAML(2, "") + "feeds: []\n",
		"schools:\n  - id: \"1\"\n    name: \"Oak\n  - x\"\n  - { id: \"2\", name: Elm }\n",
		"schools:\n  - &a { id: \"1\", name: Oak }\n  - *a\n",
		"schools:\n  - id: '1'\n    name: |\n      Oak\n      - Elm\n  - { id: '2', name: Elm }\nmail: { fallback: a@b.example }\n",
		"schools:\n  -\n    id: \"1\"\n    name: Oak\n  - id: \"2\"\n    name: Elm\nmail: { fallback: a@b.example }\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		defer func(n int) { splitMinItems = n }(splitMinItems)
		splitMinItems = 1
		split, se := Parse("c.yml", data)
		splitMinItems = 1 << 30
		whole, we := Parse("c.yml", data)
		if (se == nil) != (we == nil) {
			t.Fatalf("split and whole disagree on accepting the config:\nsplit: %v\nwhole: %v", se, we)
		}
		if se == nil && !reflect.DeepEqual(split.Schools, whole.Schools) {
			t.Fatalf("split and whole decode differ:\n%+v\n%+v", split.Schools, whole.Schools)
		}
	})
}
