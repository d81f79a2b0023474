package guidance

import (
	"errors"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"unicode"

	"github.com/schoolwatch/schoolwatch/rules"
	"github.com/schoolwatch/schoolwatch/yamlpos"
)

var sectionIDs = []string{
	"first-steps", "parental-complaints", "allegations-against-staff",
	"safeguarding-concern", "sexual-images", "self-harm-and-suicide",
	"pupil-bullying", "threats-and-harassment", "bomb-threats", "hate-abuse",
	"doxxing", "defamation-and-legal", "scams", "content-removal",
	"misinformation", "pupil-images-and-data", "media-enquiries",
	"staff-wellbeing", "prevention", "contacts",
}

// newSections were added after the review of the pack; each has a rule
// category of the same name.
var newSections = []rules.Category{
	"sexual-images", "hate-abuse", "bomb-threats", "doxxing",
	"self-harm-and-suicide", "pupil-bullying", "scams", "misinformation",
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
			// Short enough to read on a phone; the first screen of an
			// alert carries NextHour, so the section can give the detail
			// a leader needs in the rest of the day.
			if n := words(s.Text()); n < 150 || n > maxWords {
				t.Errorf("%d words; keep a section between 150 and %d", n, maxWords)
			}
			if strings.HasPrefix(s.Markdown, "---") || strings.Contains(s.Markdown, "\nid: ") {
				t.Errorf("front matter leaked into the body")
			}
		})
	}
}

// maxWords bounds a section's length. The allegations section, which must
// give the four harm tests, the DSL's part and two reporting restrictions,
// is the longest; the rest stay under 460.
const maxWords = 500

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
	for _, c := range rules.Categories {
		if c == rules.Mention {
			// A mention is not a problem: it carries first-steps, the
			// triage every alert carries, and no section of its own.
			if p.DefaultSection(c) != "first-steps" {
				t.Errorf("mention's section = %q, want first-steps", p.DefaultSection(c))
			}
			continue
		}
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
	if want := []string{"bomb-threats", "hate-abuse", "first-steps", "content-removal", "staff-wellbeing"}; !slices.Equal(rel, want) {
		t.Errorf("Related(threats-and-harassment) = %q, want %q", rel, want)
	}
}

// Letters are offered in front matter and named in the body by their
// title, never by a command: a head reading the alert on a phone cannot run
// one. Every letter is offered somewhere and says when not to send it.
func TestLettersLinkedFromSections(t *testing.T) {
	p := Builtin()
	offered := map[string]bool{}
	for _, s := range p.Sections() {
		for _, l := range p.LettersFor(s) {
			offered[l.ID] = true
			if !strings.Contains(strings.Join(strings.Fields(s.Markdown), " "), `template letter "`+l.Title+`"`) {
				t.Errorf("%s offers letter %s but its body does not name it: the template letter %q", s.ID, l.ID, l.Title)
			}
		}
		for _, l := range p.Letters() {
			if strings.Contains(s.Markdown, `"`+l.Title+`"`) && !slices.Contains(s.Letters, l.ID) {
				t.Errorf("%s names letter %s without listing it under letters:", s.ID, l.ID)
			}
		}
		if len(p.LettersFor(s)) != len(s.Letters) {
			t.Errorf("%s: letters %q, found %d", s.ID, s.Letters, len(p.LettersFor(s)))
		}
	}
	for _, l := range p.Letters() {
		if !offered[l.ID] {
			t.Errorf("letter %s is not offered by any section", l.ID)
		}
		if l.WhenNotToSend == "" {
			t.Errorf("letter %s does not say when not to send it", l.ID)
		}
		txt, err := p.Letter(l.ID, LetterData{})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(txt, senderNoteTitle+"\nWhen not to send this: ") {
			t.Errorf("letter %s does not start with the note on when not to send it:\n%s", l.ID, txt)
		}
	}
}

// Sections are read in the mail by school leaders: no commands to run, no
// configuration keys, no code.
func TestSectionsSpeakToLeaders(t *testing.T) {
	for _, s := range Builtin().Sections() {
		for _, bad := range []string{"schoolwatch ", "guidance.contacts", "`", "config"} {
			if strings.Contains(s.Markdown, bad) || slices.ContainsFunc(s.NextHour, func(l string) bool { return strings.Contains(l, bad) }) {
				t.Errorf("%s: contains %q, which is for the operator, not a school leader", s.ID, bad)
			}
		}
	}
}

// The first screen of an alert shows a section's NextHour lines: two or
// three, the first telling the reader to call 999 wherever the section's
// own "Do now" list mentions it (someone may be in immediate danger).
func TestNextHour(t *testing.T) {
	mustCall999 := []string{"first-steps", "allegations-against-staff", "safeguarding-concern", "threats-and-harassment",
		"sexual-images", "hate-abuse", "bomb-threats", "doxxing", "self-harm-and-suicide", "pupil-bullying", "misinformation", "contacts"}
	for _, s := range Builtin().Sections() {
		t.Run(s.ID, func(t *testing.T) {
			if n := len(s.NextHour); n < 2 || n > MaxNextHour {
				t.Fatalf("NextHour has %d lines, want 2 or 3: %q", n, s.NextHour)
			}
			for _, l := range s.NextHour {
				if len([]rune(l)) > MaxNextHourLen || strings.ContainsAny(l, "*_`[]") {
					t.Errorf("next hour line %q: keep it short plain text", l)
				}
			}
			do := sectionPart(s.Markdown, "Do now")
			danger := strings.Contains(do, "999") || slices.Contains(mustCall999, s.ID)
			if first := s.NextHour[0]; danger != strings.HasPrefix(first, "Call 999") {
				t.Errorf("first next hour line %q: want it to start \"Call 999\" = %v (Do now mentions 999: %v)", first, danger, strings.Contains(do, "999"))
			}
			for _, l := range s.NextHour[1:] {
				if strings.Contains(l, "999") {
					t.Errorf("999 belongs in the first line only: %q", l)
				}
			}
		})
	}
}

// sectionPart returns the text under one "## " heading of md.
func sectionPart(md, heading string) string {
	_, rest, ok := strings.Cut(md, "## "+heading+"\n")
	if !ok {
		return ""
	}
	part, _, _ := strings.Cut(rest, "\n## ")
	return part
}

// For a post that may show a sexual image of a child, the instruction not to
// view, screenshot, copy or forward it comes before any advice to capture
// evidence: in the "Do now" list of every section that mentions both, in
// NextHour, and in the alert's evidence hint.
func TestSexualImagesNotCapturedFirst(t *testing.T) {
	image := regexp.MustCompile(`(?i)\b(nude|sexual image|sexual content)`)
	warning := regexp.MustCompile(`(?i)\bdo not (open|view|look at|copy|capture)`)
	capture := regexp.MustCompile(`(?i)\b(capture the evidence|screenshot of each|capture only)`)
	for _, s := range Builtin().Sections() {
		do := strings.Join(strings.Fields(sectionPart(s.Markdown, "Do now")), " ")
		if !image.MatchString(do) {
			continue
		}
		w := warning.FindStringIndex(do)
		if w == nil {
			t.Errorf("%s: mentions a nude or sexual image but never says not to open or copy it", s.ID)
			continue
		}
		if c := capture.FindStringIndex(do); c != nil && c[0] < w[0] {
			t.Errorf("%s: %q comes before the warning %q", s.ID, do[c[0]:c[1]], do[w[0]:w[1]])
		}
	}
	s, _ := Builtin().Section("sexual-images")
	if do := sectionPart(s.Markdown, "Do now"); !strings.HasPrefix(do, "\n1. Do not open, view, copy, screenshot") {
		t.Errorf("sexual-images: the first step must be not to view or copy the image:%s", do[:min(len(do), 80)])
	}
	if !strings.Contains(s.NextHour[0], "Don't view, screenshot, copy or forward") {
		t.Errorf("sexual-images: NextHour[0] = %q", s.NextHour[0])
	}
	for _, c := range []string{"sexual-images", "privacy", "safeguarding"} {
		h := EvidenceHint(c)
		if !strings.HasPrefix(h, "Do not open") && !strings.HasPrefix(h, "If it may show a child nude or sexual, do not open") {
			t.Errorf("EvidenceHint(%s) = %q: must start with the warning", c, h)
		}
	}
	if h := EvidenceHint("complaint"); !strings.Contains(h, "screenshot") {
		t.Errorf("EvidenceHint(complaint) = %q", h)
	}
}

// Advice that must never appear, from the review of the pack.
func TestRemovedAdvice(t *testing.T) {
	forbidden := []string{
		"rarely need to act within the hour", // contradicts "without delay" and same-day LADO contact
		"rarely need to act",
		"Ask the author, then report", // ask the author first, for threats too
		"threatening or abusive language",
		"makes claims about them", // the allegation case, in the removal letter
		"I am sorry that you feel this way",
		"Kent children's services, urgent line (child in immediate danger)",
	}
	p := Builtin()
	texts := map[string]string{}
	for _, s := range p.Sections() {
		texts[s.ID] = s.Summary + "\n" + s.Markdown + strings.Join(s.NextHour, "\n")
	}
	for _, l := range p.Letters() {
		txt, _ := p.Letter(l.ID, LetterData{})
		texts["letter "+l.ID] = txt
	}
	for _, c := range p.Contacts() {
		texts["contact "+c.ID] = c.Text()
	}
	for name, txt := range texts {
		flat := strings.Join(strings.Fields(txt), " ")
		for _, f := range forbidden {
			if strings.Contains(flat, f) {
				t.Errorf("%s: says %q", name, f)
			}
		}
	}
}

// The allegations section carries what the review found missing: all four
// harm tests, the DSL's care for the child, the low-level concerns route,
// section 141F limited to teachers, and the offence of identifying the
// victim of an alleged sexual offence.
func TestAllegationsSection(t *testing.T) {
	s, _ := Builtin().Section("allegations-against-staff")
	md := strings.Join(strings.Fields(s.Markdown), " ")
	for _, want := range []string{
		"has harmed a child, or may have harmed a child",
		"possibly committed a criminal offence against or related to a child",
		"may pose a risk of harm to children",
		"may not be suitable to work with children",
		"designated safeguarding lead (DSL) now. The DSL looks after the child",
		"low-level concerns policy",
		"section 141F). It covers teachers, not other staff",
		"alleged victim of a sexual offence is a crime",
		"or the person your trust's or proprietor's policy names",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("allegations-against-staff lacks %q", want)
		}
	}
	if strings.Contains(md, "ask them to take it down") || strings.Contains(md, "template letter") {
		t.Error("allegations-against-staff must not suggest writing to the author")
	}
}

// Where immediate danger is possible, 999 comes before any council line,
// in the section and in its contacts.
func Test999BeforeCouncil(t *testing.T) {
	p := Builtin()
	for _, s := range p.Sections() {
		cs := p.ContactsFor(s)
		council := slices.IndexFunc(cs, func(c Contact) bool { return strings.HasPrefix(c.ID, "kent-") })
		police := slices.IndexFunc(cs, func(c Contact) bool { return c.ID == "police-emergency" })
		if council >= 0 && (police < 0 || police > council) {
			t.Errorf("%s: a council contact comes before 999 (%q)", s.ID, ids(cs))
		}
		do := sectionPart(s.Markdown, "Do now")
		if i := strings.Index(do, "children's social care"); i >= 0 && strings.Contains(do, "999") && strings.Index(do, "999") > i {
			t.Errorf("%s: children's social care comes before 999 in Do now", s.ID)
		}
	}
}

// Every service a section names is among the contacts it lists, so the
// mail shows how to reach it.
func TestNamedServicesHaveContacts(t *testing.T) {
	services := map[string]string{
		"Professionals Online Safety Helpline": "posh",
		"IWF":                                  "iwf",
		"Report Remove":                        "report-remove",
		"CEOP":                                 "ceop",
		"Report Harmful Content":               "report-harmful-content",
		"Report Fraud":                         "report-fraud",
		"Education Support":                    "education-support",
		"Revenge Porn Helpline":                "revenge-porn-helpline",
		"True Vision":                          "true-vision",
		"Childline":                            "childline",
		"NSPCC":                                "nspcc-helpline",
		"ICO":                                  "ico",
		"999":                                  "police-emergency",
		"101":                                  "police-101",
	}
	p := Builtin()
	for _, s := range p.Sections() {
		text := strings.Join(strings.Fields(s.Markdown+" "+strings.Join(s.NextHour, " ")), " ")
		for name, id := range services {
			if strings.Contains(text, name) && !slices.Contains(s.Contacts, id) {
				t.Errorf("%s names %s but does not list contact %s", s.ID, name, id)
			}
		}
	}
	for _, id := range slices.Sorted(maps.Values(services)) {
		if _, ok := p.contactByID(id); !ok {
			t.Errorf("no built-in contact %s", id)
		}
	}
}

// The "contacts" section, which `schoolwatch guidance contacts` prints,
// lists every built-in contact, each with a way to reach it.
func TestContactsSectionListsEveryContact(t *testing.T) {
	p := Builtin()
	s, _ := p.Section("contacts")
	shown := p.ContactsFor(s)
	if got, want := ids(shown), ids(p.Contacts()); !slices.Equal(slices.Sorted(slices.Values(got)), slices.Sorted(slices.Values(want))) {
		t.Errorf("contacts section shows %q, want every built-in contact %q", got, want)
	}
	txt := ContactsText(shown)
	for _, c := range shown {
		reach := c.Phone
		if reach == "" {
			reach = c.Web
		}
		if reach == "" {
			reach = c.Email
		}
		if reach == "" || !strings.Contains(txt, c.Label()+"\n  "+reach) {
			t.Errorf("contact %s is not shown with its number or address (%q)", c.ID, reach)
		}
	}
}

// No web address in the pack's text is made up: each is a contact's own.
func TestNoUnknownAddresses(t *testing.T) {
	p := Builtin()
	var known []string
	for _, c := range p.Contacts() {
		for _, u := range []string{c.URL, c.Web, c.Email} {
			if u != "" {
				known = append(known, strings.TrimPrefix(strings.TrimPrefix(u, "https://"), "www."))
			}
		}
	}
	domain := regexp.MustCompile(`(?i)\b[a-z0-9-]+(\.[a-z0-9-]+)*\.(uk|com|org|net|gov)\b[^\s)]*`)
	for _, s := range p.Sections() {
		for _, m := range domain.FindAllString(s.Markdown+" "+strings.Join(s.NextHour, " "), -1) {
			m = strings.TrimPrefix(strings.TrimPrefix(m, "https://"), "www.")
			if !slices.ContainsFunc(known, func(k string) bool { return strings.HasPrefix(k, strings.TrimRight(m, ".,;")) }) {
				t.Errorf("%s: address %q is not a built-in contact's", s.ID, m)
			}
		}
	}
}

// Each new rule category has a section of its own name, which is also the
// first one ForCategory offers (check uses it for a rule with no guidance).
func TestNewCategories(t *testing.T) {
	p := Builtin()
	for _, c := range newSections {
		if !slices.Contains(rules.Categories, c) {
			t.Errorf("category %q is not in rules.Categories", c)
			continue
		}
		secs := p.ForCategory(c)
		if len(secs) == 0 || secs[0].ID != string(c) {
			t.Errorf("ForCategory(%q) starts with %v, want section %s", c, secs, c)
		}
		if s, ok := p.Section(string(c)); !ok || !slices.Contains(s.Categories, c) {
			t.Errorf("section %s missing or does not fit category %s", c, c)
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
		texts[s.ID] = s.Markdown + "\n" + strings.Join(s.NextHour, "\n")
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
	s.NextHour[0] = "changed"
	b, _ := Builtin().Section("first-steps")
	if b.Title == "changed" || b.Categories[0] == "changed" || b.NextHour[0] == "changed" {
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
		"sports.md":          "---\nid: sports-fixtures\ntitle: Fixtures\nsummary: Away games.\ncategories: [other]\nnext_hour:\n  - Ring the   coach.\n  - Check the minibus.\n---\n" + body,
		"letters/thanks.txt": "---\nid: thanks\ntitle: Thank you\nsummary: Says thanks.\n---\nThank you from {{fill .School \"[school]\"}}.\n",
		"letters/sorry.txt":  "---\nid: sorry\ntitle: Sorry\nsummary: Says sorry.\nwhen_not_to_send: While the police\n  are involved.\n---\nSorry.\n",
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
	txt, err = p.Letter("sorry", LetterData{})
	if want := senderNoteTitle + "\nWhen not to send this: While the police are involved.\n" + strings.Repeat("-", textWidth) + "\n\nSorry.\n"; err != nil || txt != want {
		t.Errorf("letter with when_not_to_send = %q, %v; want %q", txt, err, want)
	}
	if sp, _ := p.Section("sports-fixtures"); !slices.Equal(sp.NextHour, []string{"Ring the coach.", "Check the minibus."}) {
		t.Errorf("NextHour = %q", sp.NextHour)
	}
	if s.NextHour != nil {
		t.Errorf("a custom section without next_hour has NextHour %q", s.NextHour)
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
		{"too many next hour lines", map[string]string{"a.md": "---\nid: a\ntitle: A\nsummary: S.\ncategories: [other]\nnext_hour: [one, two, three, four]\n---\n" + body},
			[]string{"a.md:6: next_hour: has 4 lines; give at most 3"}},
		{"next hour line too long", map[string]string{"a.md": "---\nid: a\ntitle: A\nsummary: S.\ncategories: [other]\nnext_hour:\n  - " + strings.Repeat("call ", 25) + "\n  - \"\"\n---\n" + body},
			[]string{"a.md:6: next_hour: line 1 has 124 characters", "a.md:6: next_hour: line 2 is empty"}},
		{"bad when_not_to_send", map[string]string{"a.md": good, "letters/l.txt": "---\nid: l\ntitle: L\nsummary: S.\nwhen_not_to_send: [a, b]\n---\nHi\n"},
			[]string{"l.txt:5:", "when_not_to_send"}},
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
			var fe yamlpos.Error
			if tc.files != nil && tc.name != "empty dir" && !errors.As(err, &fe) {
				t.Errorf("error %v is not a yamlpos.Error", err)
			}
		})
	}
}
