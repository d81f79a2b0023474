package guidance

import (
	"bytes"
	"errors"
	"fmt"
	"html/template"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/goccy/go-yaml"

	"github.com/schoolwatch/schoolwatch/yamlpos"
)

// Contact is a source of help shown in alerts. It is one type wherever a
// contact is written: an entry of the built-in contacts.yml and of
// guidance.contacts in config decode into it, with the same keys.
type Contact struct {
	// ID names the contact for sections to point to. A configured contact
	// with a built-in one's ID (or name, or email) replaces it.
	ID    string `yaml:"id"`
	Name  string `yaml:"name"`
	Phone string `yaml:"phone"`
	Email string `yaml:"email"`
	// URL is the public page the details were checked against.
	URL string `yaml:"url"`
	// Web is where to use the service online (a report form or the
	// service's own site), for services reached through the web.
	Web   string `yaml:"web"`
	Hours string `yaml:"hours"`
	Area  string `yaml:"area"` // e.g. "Kent", "England", "UK"
	Notes string `yaml:"notes"`
	// Verified is the day someone last checked the contact against its
	// public source (URL).
	Verified Date `yaml:"verified"`
	// Configured is true for a contact that came from config
	// (guidance.contacts) rather than the built-in pack.
	Configured bool `yaml:"-"`
	// Placeholder is true for a stand-in such as "Your local authority's
	// LADO", shown where a section names a Kent contact but the school's
	// configuration is for somewhere else or names no area. It has no number
	// of its own: its Notes say where to find one.
	Placeholder bool `yaml:"-"`
}

// MaxContactAge is how long a contact stays trusted after it was verified;
// check warns about older ones (see StaleContacts).
const MaxContactAge = 365 * 24 * time.Hour

// BuiltinArea is the area whose local numbers the built-in pack carries as a
// worked example.
const BuiltinArea = "Kent"

// nationalAreas cover every school in England.
var nationalAreas = []string{"", "England", "UK", "United Kingdom", "England and Wales", "England, Wales and Northern Ireland", "Great Britain", "GB", "national"}

func isNational(area string) bool {
	return slices.ContainsFunc(nationalAreas, func(a string) bool { return strings.EqualFold(a, strings.TrimSpace(area)) })
}

// contactEntry is one entry of the built-in contacts.yml: a Contact, and
// for a Kent contact the name of the stand-in shown elsewhere.
type contactEntry struct {
	Contact `yaml:",inline"`
	Local   string `yaml:"local"`
}

// parseContacts reads the built-in contact list. Every contact must carry an
// https source and the day it was verified, so the mail can show both.
//
// It also returns, by contact ID, the stand-in names ("local") of Kent
// contacts, shown where Kent's numbers are left out.
func parseContacts(file string, src []byte) ([]Contact, map[string]string, error) {
	var raw []contactEntry
	if err := yaml.UnmarshalWithOptions(src, &raw, yaml.DisallowUnknownField()); err != nil {
		var ye yaml.Error
		if errors.As(err, &ye) && ye.GetToken() != nil {
			return nil, nil, yamlpos.Error{File: file, Line: ye.GetToken().Position.Line, Msg: ye.GetMessage()}
		}
		return nil, nil, yamlpos.Error{File: file, Msg: err.Error()}
	}
	lines := yamlpos.SourceLines(src, 1)
	var errs yamlpos.Errors
	var out []Contact
	locals := map[string]string{}
	seen := map[string]bool{}
	for i, c := range raw {
		line := lines.Line(fmt.Sprintf("[%d].id", i))
		bad := func(format string, args ...any) {
			errs = append(errs, yamlpos.Error{File: file, Line: line, Msg: fmt.Sprintf("contact %d (%s): ", i+1, c.ID) + fmt.Sprintf(format, args...)})
		}
		if !idPattern.MatchString(c.ID) {
			bad("id must be lower-case letters, digits and hyphens")
		}
		if seen[c.ID] {
			bad("duplicate id")
		}
		seen[c.ID] = true
		if c.Name == "" {
			bad("name is required")
		}
		if c.Phone == "" && c.Email == "" && c.Web == "" {
			bad("needs a phone, email or web address to reach it")
		}
		if !httpsURL(c.URL) {
			bad("url %q must be the https address of the public page the details came from", c.URL)
		}
		if c.Web != "" && !httpsURL(c.Web) {
			bad("web %q must be an https address", c.Web)
		}
		if c.Local != "" && !strings.EqualFold(c.Area, BuiltinArea) {
			bad("local names the stand-in for a %s contact; this one's area is %q", BuiltinArea, c.Area)
		}
		if c.Verified.IsZero() {
			bad("verified %q must be a date (YYYY-MM-DD)", c.Verified.raw)
		}
		c.Notes = strings.TrimSpace(c.Notes)
		out = append(out, c.Contact)
		if c.Local != "" {
			locals[c.ID] = c.Local
		}
	}
	return out, locals, errs.Err()
}

func httpsURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && u.Scheme == "https" && u.Host != ""
}

// localNote is what a placeholder contact says in place of a number.
const localNote = "Not set up in schoolwatch for your school. Use the number in your " +
	"child protection policy, or find it on your local safeguarding children " +
	"partnership's website."

// placeholder is the stand-in shown for the Kent contact id where Kent's
// numbers are left out.
func (p *Pack) placeholder(id string) (Contact, bool) {
	name, ok := p.locals[id]
	if !ok {
		return Contact{}, false
	}
	return Contact{ID: "local-" + slug(name), Name: name, Notes: localNote, Placeholder: true}, true
}

// Contacts returns the pack's contacts: the built-in ones, or after
// WithContacts the merged list, configured ones included (so check can warn
// about any of them going stale).
func (p *Pack) Contacts() []Contact { return slices.Clone(p.contacts) }

// ConfiguredContacts returns the contacts given to WithContacts, marked
// Configured, with the IDs they were given in the pack.
func (p *Pack) ConfiguredContacts() []Contact { return slices.Clone(p.configured) }

// WithContacts returns a copy of the pack whose contact list is cs (from
// config, guidance.contacts) overriding built-in contacts with the same ID,
// Name or email address, plus the remaining built-in contacts. An overriding
// contact takes the built-in one's ID, so sections that point to it show the
// configured details, and keeps the built-in hours and notes when it has none.
//
// The built-in Kent numbers are kept only when a configured contact is in
// Kent (Area "Kent"): a school elsewhere, or one whose configuration does
// not say where it is, must not be sent to Kent's LADO. Where a section
// names a Kent contact that was left out, ContactsFor shows a placeholder
// ("Your local authority's LADO") instead.
//
// Calling WithContacts again starts from the built-in contacts, not from the
// previous call's result.
func (p *Pack) WithContacts(cs []Contact) *Pack {
	q := p.clone()
	merged := slices.Clone(p.builtin)
	inKent := false
	configured := make([]Contact, 0, len(cs))
	for _, c := range cs {
		c.Configured = true
		c.Placeholder = false
		if strings.EqualFold(strings.TrimSpace(c.Area), BuiltinArea) {
			inKent = true
		}
		if i := slices.IndexFunc(merged, func(b Contact) bool { return !b.Configured && sameContact(b, c) }); i >= 0 {
			b := merged[i]
			if c.ID == "" {
				c.ID = b.ID
			}
			// Descriptions carry over; reachable details and their source
			// come only from config, so they are never shown under a date
			// the built-in pack did not check.
			if c.Hours == "" {
				c.Hours = b.Hours
			}
			if c.Notes == "" {
				c.Notes = b.Notes
			}
			merged[i] = c
		} else {
			if c.ID == "" {
				c.ID = uniqueID(merged, "local-"+slug(c.Name))
			}
			merged = append(merged, c)
		}
		configured = append(configured, c)
	}
	if !inKent {
		merged = slices.DeleteFunc(merged, func(c Contact) bool {
			return !c.Configured && strings.EqualFold(c.Area, BuiltinArea)
		})
	}
	q.contacts = merged
	q.configured = configured
	return q
}

func sameContact(a, b Contact) bool {
	eq := func(x, y string) bool {
		x, y = strings.Join(strings.Fields(x), " "), strings.Join(strings.Fields(y), " ")
		return x != "" && strings.EqualFold(x, y)
	}
	return eq(a.ID, b.ID) || eq(a.Name, b.Name) || eq(a.Email, b.Email)
}

var nonSlug = regexp.MustCompile(`[^a-z0-9]+`)

func slug(s string) string {
	s = strings.Trim(nonSlug.ReplaceAllString(strings.ToLower(s), "-"), "-")
	if s == "" {
		s = "contact"
	}
	return s
}

func uniqueID(cs []Contact, id string) string {
	taken := func(id string) bool { return slices.ContainsFunc(cs, func(c Contact) bool { return c.ID == id }) }
	for n, base := 2, id; taken(id); n++ {
		id = fmt.Sprintf("%s-%d", base, n)
	}
	return id
}

func (p *Pack) contactByID(id string) (Contact, bool) {
	i := slices.IndexFunc(p.contacts, func(c Contact) bool { return c.ID == id })
	if i < 0 {
		return Contact{}, false
	}
	return p.contacts[i], true
}

func (p *Pack) contactIDs() []string {
	ids := make([]string, len(p.contacts))
	for i, c := range p.contacts {
		ids[i] = c.ID
	}
	return ids
}

// ContactsFor returns the contacts a section refers to, resolved against the
// pack's (possibly configured) contacts, followed by every configured
// contact it did not already name. A reference to a Kent contact that
// WithContacts left out becomes its placeholder ("Your local authority's
// LADO"), once.
func (p *Pack) ContactsFor(s *Section) []Contact {
	var out []Contact
	have := map[string]bool{}
	for _, id := range s.Contacts {
		c, ok := p.contactByID(id)
		if !ok {
			c, ok = p.placeholder(id)
		}
		if ok && !have[c.ID] {
			out = append(out, c)
			have[c.ID] = true
		}
	}
	for _, c := range p.configured {
		if !have[c.ID] {
			out = append(out, c)
			have[c.ID] = true
		}
	}
	return out
}

// StaleContacts returns the contacts verified longer than maxAge before now,
// or never, in the order given. check warns about them.
func StaleContacts(cs []Contact, now time.Time, maxAge time.Duration) []Contact {
	var out []Contact
	for _, c := range cs {
		if c.Verified.IsZero() || now.Sub(c.Verified.Time) > maxAge {
			out = append(out, c)
		}
	}
	return out
}

// AreaNote is a line for school leaders about whose numbers cs carries:
// that Kent's built-in numbers are only for schools in Kent, or that their
// local authority's numbers are not listed. It returns "" when cs needs no
// note. It never mentions configuration, which is for the operator (see
// SetupNote).
func AreaNote(cs []Contact) string {
	kent, configured, placeholder := false, false, false
	for _, c := range cs {
		kent = kent || (!c.Configured && strings.EqualFold(c.Area, BuiltinArea))
		configured = configured || c.Configured
		placeholder = placeholder || c.Placeholder
	}
	switch {
	case kent:
		return "Numbers marked Kent are for schools in Kent only. If your school is elsewhere, " +
			"use your own local authority's LADO and children's social care instead."
	case placeholder || !configured:
		return "Your local authority's LADO and children's social care numbers are not listed here: " +
			"they are in your child protection policy, and on your local safeguarding children partnership's website. " +
			"If a child is in immediate danger, call 999."
	}
	return ""
}

// SetupNote is a warning for the operator (schoolwatch check) when p has
// no configured local contact, so alerts about allegations and safeguarding
// show "Your local authority's LADO" without a number. It returns "" when
// a local contact is configured.
func SetupNote(p *Pack) string {
	for _, c := range p.configured {
		if !isNational(c.Area) {
			return ""
		}
	}
	return "no local LADO or children's social care contact is configured, so alerts tell leaders to use " +
		"\"your local authority's LADO\" without a number: add yours under guidance.contacts, with its area, " +
		"the url you took it from and the date you verified it"
}

// Label is the contact's name, followed by its area in brackets when the
// area is local and the name does not already say it.
func (c Contact) Label() string {
	if isNational(c.Area) || strings.Contains(strings.ToLower(c.Name), strings.ToLower(strings.TrimSpace(c.Area))) {
		return c.Name
	}
	return c.Name + " (" + strings.TrimSpace(c.Area) + ")"
}

// VerifiedText is how a contact's verification date is shown.
func (c Contact) VerifiedText() string {
	if c.Verified.IsZero() {
		return "not verified"
	}
	return "verified " + c.Verified.Format("2 January 2006")
}

// Text renders one contact as a few lines of plain text, with its source and
// when it was verified.
func (c Contact) Text() string {
	var b strings.Builder
	b.WriteString(c.Label() + "\n")
	var reach []string
	if c.Phone != "" {
		reach = append(reach, c.Phone)
	}
	if c.Email != "" {
		reach = append(reach, c.Email)
	}
	if c.Web != "" {
		reach = append(reach, c.Web)
	}
	if len(reach) > 0 {
		b.WriteString("  " + strings.Join(reach, " · ") + "\n")
	}
	if c.Hours != "" {
		b.WriteString("  " + c.Hours + "\n")
	}
	if c.Notes != "" {
		wrapText(&b, c.Notes, "  ", "  ")
	}
	switch {
	case c.URL != "":
		b.WriteString("  Source: " + c.URL + " (" + c.VerifiedText() + ")\n")
	case !c.Placeholder:
		b.WriteString("  (" + c.VerifiedText() + ")\n")
	}
	return b.String()
}

// ContactsText renders contacts as plain text, followed by AreaNote.
func ContactsText(cs []Contact) string {
	var b strings.Builder
	for i, c := range cs {
		if i > 0 {
			b.WriteString("\n")
		}
		b.WriteString(c.Text())
	}
	if n := AreaNote(cs); n != "" {
		if len(cs) > 0 {
			b.WriteString("\n")
		}
		wrapText(&b, n, "", "")
	}
	return b.String()
}

var contactsHTML = template.Must(template.New("contacts").Funcs(template.FuncMap{
	// Digits and + only, so the URL is safe to mark as such.
	"tel": func(s string) template.URL { return template.URL("tel:" + strings.Map(telRune, s)) },
}).Parse(`<ul class="contacts">
{{- range .Contacts}}
<li><strong>{{.Label}}</strong>
{{- if .Phone}}<br><a href="{{tel .Phone}}">{{.Phone}}</a>{{end}}
{{- if .Email}}<br><a href="mailto:{{.Email}}">{{.Email}}</a>{{end}}
{{- if .Web}}<br><a href="{{.Web}}">{{.Web}}</a>{{end}}
{{- if .Hours}}<br>{{.Hours}}{{end}}
{{- if .Notes}}<br>{{.Notes}}{{end}}
{{- if .URL}}
<br><small>Source: <a href="{{.URL}}">{{.URL}}</a> ({{.VerifiedText}})</small>
{{- else if not .Placeholder}}
<br><small>({{.VerifiedText}})</small>
{{- end}}</li>
{{- end}}
</ul>
{{- with .Note}}
<p><em>{{.}}</em></p>
{{- end}}
`))

func telRune(r rune) rune {
	if (r >= '0' && r <= '9') || r == '+' {
		return r
	}
	return -1
}

// ContactsHTML renders contacts as a safe HTML list, followed by AreaNote.
func ContactsHTML(cs []Contact) template.HTML {
	var buf bytes.Buffer
	err := contactsHTML.Execute(&buf, struct {
		Contacts []Contact
		Note     string
	}{cs, AreaNote(cs)})
	if err != nil {
		return template.HTML("<pre>" + template.HTMLEscapeString(ContactsText(cs)) + "</pre>")
	}
	return template.HTML(buf.String())
}
