package guidance

import (
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"unicode"
)

var sectionIDs = []string{
	"first-steps", "parental-complaints", "allegations-against-staff",
	"safeguarding-concern", "threats-and-harassment", "defamation-and-legal",
	"content-removal", "pupil-images-and-data", "media-enquiries",
	"staff-wellbeing", "prevention", "contacts",
}

func TestBuiltinSections(t *testing.T) {
	p := Builtin()
	var got []string
	for _, s := range p.Sections() {
		got = append(got, s.ID)
	}
	if !slices.Equal(got, sectionIDs) {
		t.Fatalf("Sections() = %q, want %q", got, sectionIDs)
	}
	for _, s := range p.Sections() {
		t.Run(s.ID, func(t *testing.T) {
			if s.Title == "" || s.Summary == "" || len(s.Categories) == 0 || s.Markdown == "" {
				t.Errorf("missing field: %+v", s)
			}
			if err := checkHeadings(s.File, 1, s.Markdown); err != nil {
				t.Error(err)
			}
			// Short enough to read on a phone.
			if n := words(s.Text()); n < 150 || n > 350 {
				t.Errorf("%d words; keep a section between 150 and 350", n)
			}
			if strings.HasPrefix(s.Markdown, "---") || strings.Contains(s.Markdown, "\nid: ") {
				t.Errorf("front matter leaked into the body")
			}
		})
	}
}

// words counts the words in s, leaving out bullets, numbers and heading
// underlines.
func words(s string) int {
	n := 0
	for _, f := range strings.Fields(s) {
		if strings.IndexFunc(f, unicode.IsLetter) >= 0 {
			n++
		}
	}
	return n
}

func TestEveryCategoryHasASection(t *testing.T) {
	p := Builtin()
	for _, c := range Categories {
		if len(p.ForCategory(c)) == 0 {
			t.Errorf("no section fits category %q", c)
		}
	}
}

// Cross-references are written as *Title*; each must name a real section or
// one of the statutory documents.
func TestCrossReferencesResolve(t *testing.T) {
	p := Builtin()
	titles := []string{"Keeping children safe in education", "Working together to safeguard children"}
	for _, s := range p.Sections() {
		titles = append(titles, s.Title)
	}
	for _, s := range p.Sections() {
		for _, ref := range emphasised(s.Markdown) {
			if !slices.Contains(titles, ref) {
				t.Errorf("%s: *%s* is not a section title or known document", s.ID, ref)
			}
		}
	}
	s, _ := p.Section("threats-and-harassment")
	var rel []string
	for _, r := range p.Related(s) {
		rel = append(rel, r.ID)
	}
	if want := []string{"first-steps", "content-removal", "staff-wellbeing"}; !slices.Equal(rel, want) {
		t.Errorf("Related(threats-and-harassment) = %q, want %q", rel, want)
	}
}

// Letters are offered in front matter and named in the body with the
// command that prints them, and every letter is offered somewhere.
func TestLettersLinkedFromSections(t *testing.T) {
	p := Builtin()
	offered := map[string]bool{}
	for _, s := range p.Sections() {
		for _, id := range s.Letters {
			offered[id] = true
			if !strings.Contains(s.Markdown, "schoolwatch guidance letter "+id) {
				t.Errorf("%s offers letter %s but its body does not show `schoolwatch guidance letter %s`", s.ID, id, id)
			}
		}
		for _, m := range regexp.MustCompile("schoolwatch guidance letter ([a-z-]+)").FindAllStringSubmatch(s.Markdown, -1) {
			if !slices.Contains(s.Letters, m[1]) {
				t.Errorf("%s mentions letter %s without listing it under letters:", s.ID, m[1])
			}
		}
	}
	for _, l := range p.Letters() {
		if !offered[l.ID] {
			t.Errorf("letter %s is not offered by any section", l.ID)
		}
	}
}

// The pack may state only numbers that a verified built-in contact carries.
func TestNoUnverifiedNumbers(t *testing.T) {
	p := Builtin()
	known := map[string]bool{}
	for _, c := range p.Contacts() {
		known[digits(c.Phone)] = true
	}
	long := regexp.MustCompile(`\+?\d[\d ]{5,}\d`)
	short := regexp.MustCompile(`\b(999|101|111|112|116 ?\d{3})\b`)
	texts := map[string]string{}
	for _, s := range p.Sections() {
		texts[s.ID] = s.Markdown
	}
	for _, l := range p.Letters() {
		txt, err := p.Letter(l.ID, LetterData{})
		if err != nil {
			t.Fatal(err)
		}
		texts["letter "+l.ID] = txt
	}
	for name, txt := range texts {
		for _, m := range append(long.FindAllString(txt, -1), short.FindAllString(txt, -1)...) {
			if !known[digits(m)] {
				t.Errorf("%s: number %q is not a built-in contact's phone", name, m)
			}
		}
	}
}

func digits(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, s)
}

func TestBuiltinIsACopy(t *testing.T) {
	a := Builtin()
	s, _ := a.Section("first-steps")
	s.Title = "changed"
	s.Categories[0] = "changed"
	b, _ := Builtin().Section("first-steps")
	if b.Title == "changed" || b.Categories[0] == "changed" {
		t.Fatal("changing one Builtin() pack changed another")
	}
}

func writeFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, body := range files {
		path := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

const body = `
## When this applies

Always.

## Do now

1. Ring the office.

## Do not

- Panic.

## Who to contact

The head.

## Policies to check

- Our own.
`

func TestLoadOverridesAndAdds(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"complaints.md":      "---\nid: parental-complaints\ntitle: Our own complaints advice\nsummary: Ring the office.\ncategories: [complaint]\ncontacts: [posh]\n---\n" + body,
		"sports.md":          "---\nid: sports-fixtures\ntitle: Fixtures\nsummary: Away games.\ncategories: [other]\n---\n" + body,
		"letters/thanks.txt": "---\nid: thanks\ntitle: Thank you\nsummary: Says thanks.\n---\nThank you from {{fill .School \"[school]\"}}.\n",
		"README.txt":         "not a section",
	})
	p, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	s, ok := p.Section("parental-complaints")
	if !ok || s.Title != "Our own complaints advice" || !strings.Contains(s.Text(), "Ring the office.") {
		t.Fatalf("custom section did not replace the built-in one: %+v", s)
	}
	if s.File != filepath.Join(dir, "complaints.md") {
		t.Errorf("File = %q", s.File)
	}
	if _, ok := p.Section("safeguarding-concern"); !ok {
		t.Error("built-in sections not kept")
	}
	ids := []string{}
	for _, s := range p.Sections() {
		ids = append(ids, s.ID)
	}
	if ids[0] != "first-steps" || ids[len(ids)-1] != "contacts" || ids[len(ids)-2] != "sports-fixtures" {
		t.Errorf("order = %q: want first-steps first, added sections before contacts", ids)
	}
	txt, err := p.Letter("thanks", LetterData{School: "Harbourside Academy"})
	if err != nil || txt != "Thank you from Harbourside Academy.\n" {
		t.Errorf("custom letter = %q, %v", txt, err)
	}
	if builtin, _ := Builtin().Section("parental-complaints"); builtin.Title == s.Title {
		t.Error("Load changed the built-in pack")
	}
}

func TestLoadEmptyDirIsBuiltin(t *testing.T) {
	p, err := Load("")
	if err != nil || len(p.Sections()) != len(sectionIDs) {
		t.Fatalf("Load(\"\") = %d sections, %v", len(p.Sections()), err)
	}
}

func TestLoadErrors(t *testing.T) {
	good := "---\nid: x\ntitle: X\nsummary: S.\ncategories: [other]\n---\n" + body
	for _, tc := range []struct {
		name  string
		files map[string]string
		want  []string // substrings of the error
	}{
		{"missing dir", nil, []string{"no such file"}},
		{"empty dir", map[string]string{"notes.txt": "x"}, []string{"no *.md sections"}},
		{"no front matter", map[string]string{"a.md": body}, []string{"a.md:1: front matter missing"}},
		{"unclosed front matter", map[string]string{"a.md": "---\nid: a\n"}, []string{"a.md:1: front matter not closed"}},
		{"unknown key", map[string]string{"a.md": "---\nid: a\ntitle: A\nsummary: S.\ncategories: [other]\ncolour: red\n---\n" + body},
			[]string{"a.md:6: front matter:", "colour"}},
		{"bad yaml", map[string]string{"a.md": "---\nid: a\ntitle: [A\n---\n" + body}, []string{"a.md:"}},
		{"missing fields", map[string]string{"a.md": "---\nid: a\n---\n" + body},
			[]string{"a.md:1: title: is required", "a.md:1: summary: is required", "a.md:1: categories: at least one"}},
		{"bad category", map[string]string{"a.md": "---\nid: a\ntitle: A\nsummary: S.\ncategories: [gossip]\n---\n" + body},
			[]string{`a.md:5: categories: unknown category "gossip"`}},
		{"bad id", map[string]string{"a.md": "---\nid: Bad ID\ntitle: A\nsummary: S.\ncategories: [other]\n---\n" + body},
			[]string{`a.md:2: id: "Bad ID"`}},
		{"missing heading", map[string]string{"a.md": "---\nid: a\ntitle: A\nsummary: S.\ncategories: [other]\n---\n\n## When this applies\n\nAlways.\n"},
			[]string{`a.md:8: missing heading "## Do now"`}},
		{"extra heading", map[string]string{"a.md": "---\nid: a\ntitle: A\nsummary: S.\ncategories: [other]\n---\n" + body + "\n## Notes\n"},
			[]string{`a.md:28: unexpected heading "Notes"`}},
		{"unknown contact", map[string]string{"a.md": "---\nid: a\ntitle: A\nsummary: S.\ncategories: [other]\ncontacts: [posh, kent-police]\n---\n" + body},
			[]string{`a.md:6: contacts: unknown contact "kent-police"`}},
		{"unknown letter", map[string]string{"a.md": "---\nid: a\ntitle: A\nsummary: S.\ncategories: [other]\nletters: [apology]\n---\n" + body},
			[]string{`a.md:6: letters: unknown letter "apology"`}},
		{"duplicate id", map[string]string{"a.md": good, "b.md": good}, []string{`b.md:2: id: "x" is also the id of`}},
		{"bad letter", map[string]string{"a.md": good, "letters/l.txt": "---\nid: l\ntitle: L\nsummary: S.\n---\nDear {{.Parent}}\n"},
			[]string{"l.txt:6:", "Parent"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "missing")
			if tc.files != nil {
				dir = writeFiles(t, tc.files)
			}
			_, err := Load(dir)
			if err == nil {
				t.Fatal("Load succeeded")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
			var fe *FileError
			if tc.files != nil && tc.name != "empty dir" && !errors.As(err, &fe) {
				t.Errorf("error %v is not a *FileError", err)
			}
		})
	}
}
