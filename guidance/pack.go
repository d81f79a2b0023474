package guidance

import (
	"embed"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/schoolwatch/schoolwatch/rules"
	"github.com/schoolwatch/schoolwatch/yamlpos"
)

//go:embed pack
var builtinFS embed.FS

// builtinOrder is the reading order of the built-in sections: what to do
// first, then the situations, then prevention, with the contacts last.
// Sections a custom pack adds go before contacts, sorted by ID.
var builtinOrder = []string{
	"first-steps",
	"parental-complaints",
	"allegations-against-staff",
	"safeguarding-concern",
	"sexual-images",
	"self-harm-and-suicide",
	"pupil-bullying",
	"threats-and-harassment",
	"bomb-threats",
	"hate-abuse",
	"doxxing",
	"defamation-and-legal",
	"scams",
	"content-removal",
	"misinformation",
	"pupil-images-and-data",
	"media-enquiries",
	"staff-wellbeing",
	"prevention",
	"contacts",
}

// Pack is a set of guidance sections with the contacts and template letters
// they refer to. A Pack is not modified after it is built; WithContacts
// returns a new one.
type Pack struct {
	sections   map[string]*Section
	order      []string
	builtin    []Contact         // the pack's own contacts
	contacts   []Contact         // builtin merged with configured (see WithContacts)
	configured []Contact         // contacts from config, shown in every alert
	locals     map[string]string // Kent contact ID → placeholder name
	letters    map[string]*letter
}

var builtin = sync.OnceValues(func() (*Pack, error) {
	sub, err := fs.Sub(builtinFS, "pack")
	if err != nil {
		return nil, err
	}
	return loadFS(sub, "builtin:", nil)
})

// Builtin returns the pack embedded in the binary. Its files are checked by
// the package tests, so it panics only on a build that skipped them.
func Builtin() *Pack {
	p, err := builtin()
	if err != nil {
		panic(fmt.Sprintf("guidance: built-in pack is broken: %v", err))
	}
	return p.clone()
}

// Load returns the built-in pack overlaid by the sections in dir: each *.md
// file there replaces the built-in section with the same id or adds a new
// one. Letters in dir/letters/*.txt replace or add letters the same way.
// An empty dir returns the built-in pack. Errors name file:line.
func Load(dir string) (*Pack, error) {
	base := Builtin()
	if dir == "" {
		return base, nil
	}
	st, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("guidance pack: %w", err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("guidance pack: %s is not a directory", dir)
	}
	return loadFS(os.DirFS(dir), dir+string(filepath.Separator), base)
}

// loadFS reads sections/*.md (the built-in layout) or *.md (a custom pack),
// letters/*.txt and, for the built-in pack, contacts.yml, on top of base.
func loadFS(fsys fs.FS, prefix string, base *Pack) (*Pack, error) {
	p := &Pack{sections: map[string]*Section{}, letters: map[string]*letter{}}
	if base != nil {
		p = base
	}
	var errs yamlpos.Errors

	if base == nil {
		src, err := fs.ReadFile(fsys, "contacts.yml")
		if err != nil {
			return nil, err
		}
		cs, locals, err := parseContacts(prefix+"contacts.yml", src)
		if err != nil {
			return nil, err
		}
		p.builtin, p.contacts, p.locals = cs, cs, locals
	}

	sectionGlob := "*.md"
	if base == nil {
		sectionGlob = "sections/*.md"
	}
	files, _ := fs.Glob(fsys, sectionGlob)
	sort.Strings(files)
	seen := map[string]string{}
	for _, f := range files {
		src, err := fs.ReadFile(fsys, f)
		if err != nil {
			errs.Add(err)
			continue
		}
		s, err := parseSection(prefix+filepath.FromSlash(f), src)
		if err != nil {
			errs.Add(err)
			continue
		}
		if other, dup := seen[s.ID]; dup {
			errs = append(errs, s.fieldError("id", "%q is also the id of %s", s.ID, other))
			continue
		}
		seen[s.ID] = s.File
		p.sections[s.ID] = s
	}

	letterFiles, _ := fs.Glob(fsys, "letters/*.txt")
	sort.Strings(letterFiles)
	for _, f := range letterFiles {
		src, err := fs.ReadFile(fsys, f)
		if err != nil {
			errs.Add(err)
			continue
		}
		l, err := parseLetter(prefix+filepath.FromSlash(f), src)
		if err != nil {
			errs.Add(err)
			continue
		}
		p.letters[l.ID] = l
	}
	if base != nil && len(files) == 0 && len(letterFiles) == 0 {
		errs = append(errs, yamlpos.Error{File: strings.TrimSuffix(prefix, string(filepath.Separator)), Msg: "no *.md sections or letters/*.txt found"})
	}
	if len(errs) > 0 {
		return nil, errs
	}
	if err := p.checkRefs(); err != nil {
		return nil, err
	}
	p.sortSections()
	return p, nil
}

// checkRefs reports sections that name contacts or letters the pack lacks.
func (p *Pack) checkRefs() error {
	var errs yamlpos.Errors
	for _, id := range slices.Sorted(maps.Keys(p.sections)) {
		s := p.sections[id]
		for _, c := range s.Contacts {
			if _, ok := p.contactByID(c); !ok {
				errs = append(errs, s.fieldError("contacts", "unknown contact %q (built-in contacts: %s)", c, strings.Join(p.contactIDs(), ", ")))
			}
		}
		for _, l := range s.Letters {
			if _, ok := p.letters[l]; !ok {
				errs = append(errs, s.fieldError("letters", "unknown letter %q (letters: %s)", l, strings.Join(slices.Sorted(maps.Keys(p.letters)), ", ")))
			}
		}
	}
	return errs.Err()
}

// fieldError locates a problem with a front matter key of s.
func (s *Section) fieldError(key, format string, args ...any) yamlpos.Error {
	return yamlpos.Errorf(s.File, keyLine(s.fmLines, key), key, format, args...)
}

func (p *Pack) sortSections() {
	rank := func(id string) int {
		if i := slices.Index(builtinOrder, id); i >= 0 {
			if id == "contacts" {
				return 1 << 20
			}
			return i
		}
		return len(builtinOrder)
	}
	p.order = slices.Sorted(maps.Keys(p.sections))
	slices.SortStableFunc(p.order, func(a, b string) int { return rank(a) - rank(b) })
}

func (p *Pack) clone() *Pack {
	q := &Pack{
		sections:   make(map[string]*Section, len(p.sections)),
		order:      slices.Clone(p.order),
		builtin:    slices.Clone(p.builtin),
		contacts:   slices.Clone(p.contacts),
		configured: slices.Clone(p.configured),
		locals:     p.locals, // never modified after parsing
		letters:    make(map[string]*letter, len(p.letters)),
	}
	for id, s := range p.sections {
		c := *s
		c.Categories = slices.Clone(s.Categories)
		c.Contacts = slices.Clone(s.Contacts)
		c.Letters = slices.Clone(s.Letters)
		c.NextHour = slices.Clone(s.NextHour)
		q.sections[id] = &c
	}
	for id, l := range p.letters {
		q.letters[id] = l // immutable once parsed
	}
	return q
}

// Section returns the section with the given ID.
func (p *Pack) Section(id string) (*Section, bool) {
	s, ok := p.sections[id]
	return s, ok
}

// Sections returns every section in reading order: first-steps first,
// contacts last.
func (p *Pack) Sections() []*Section {
	out := make([]*Section, 0, len(p.order))
	for _, id := range p.order {
		out = append(out, p.sections[id])
	}
	return out
}

// DefaultSection is the ID of the section a rule of category carries when
// it names none: the first section ForCategory offers, or first-steps, the
// general advice, when no section fits.
func (p *Pack) DefaultSection(category rules.Category) string {
	if secs := p.ForCategory(category); len(secs) > 0 {
		return secs[0].ID
	}
	return "first-steps"
}

// ForCategory returns the sections that fit a rule category, in reading
// order, leaving out first-steps and contacts (which fit every alert).
func (p *Pack) ForCategory(category rules.Category) []*Section {
	var out []*Section
	for _, s := range p.Sections() {
		if s.ID != "first-steps" && s.ID != "contacts" && slices.Contains(s.Categories, category) {
			out = append(out, s)
		}
	}
	return out
}
