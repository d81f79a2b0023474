package guidance

import (
	"slices"
	"strings"
	"testing"
	"time"
)

var verifiedOn = time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)

// reviewedOn is when the contacts added after the guidance review were
// checked (see ../shared/SOURCES.md).
var reviewedOn = time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC)

// builtinIDs are the built-in contacts, in file order.
var builtinIDs = []string{
	"posh", "kent-lado", "kent-urgent", "kent-out-of-hours", "police-emergency", "police-101",
	"ceop", "iwf", "report-remove", "childline", "nspcc-helpline", "report-harmful-content",
	"true-vision", "report-fraud", "ico", "revenge-porn-helpline", "education-support",
}

// withoutKent is builtinIDs without Kent's.
var withoutKent = slices.DeleteFunc(slices.Clone(builtinIDs), func(id string) bool { return strings.HasPrefix(id, "kent-") })

func TestBuiltinContacts(t *testing.T) {
	cs := Builtin().Contacts()
	type reach struct{ phone, web string }
	want := map[string]reach{ // exactly as the public sources give them
		"posh":                   {"0344 381 4772", ""},
		"kent-lado":              {"03000 41 08 88", ""},
		"kent-urgent":            {"03000 41 11 11", ""},
		"kent-out-of-hours":      {"03000 41 91 91", ""},
		"police-emergency":       {"999", ""},
		"police-101":             {"101", ""},
		"ceop":                   {"", "https://ceop.police.uk"},
		"iwf":                    {"", "https://iwf.org.uk/report"},
		"report-remove":          {"", "https://childline.org.uk"},
		"childline":              {"0800 1111", "https://childline.org.uk"},
		"nspcc-helpline":         {"0808 800 5000", ""},
		"report-harmful-content": {"", "https://reportharmfulcontent.com"},
		"true-vision":            {"", "https://report-it.org.uk"},
		"report-fraud":           {"0300 123 2040", "https://reportfraud.police.uk"},
		"ico":                    {"0303 123 1113", "https://ico.org.uk/for-organisations/report-a-breach/personal-data-breach/"},
		"revenge-porn-helpline":  {"0345 6000 459", ""},
		"education-support":      {"08000 562 561", ""},
	}
	if got := ids(cs); !slices.Equal(got, builtinIDs) {
		t.Errorf("built-in contacts %q, want %q", got, builtinIDs)
	}
	for _, c := range cs {
		if w := want[c.ID]; w.phone != c.Phone || w.web != c.Web {
			t.Errorf("%s: phone %q web %q, want %q %q", c.ID, c.Phone, c.Web, w.phone, w.web)
		}
		if !strings.HasPrefix(c.URL, "https://") || c.Area == "" || c.Configured || c.Placeholder {
			t.Errorf("%s: needs an https source and an area: %+v", c.ID, c)
		}
		if c.Notes == "" {
			t.Errorf("%s: no notes saying what it is for", c.ID)
		}
		first := slices.Index(builtinIDs, "ceop")
		if when := verifiedOn; slices.Index(builtinIDs, c.ID) >= first {
			when = reviewedOn
			if !c.Verified.Equal(when) {
				t.Errorf("%s: verified %v, want %v", c.ID, c.Verified, when)
			}
		} else if !c.Verified.Equal(when) {
			t.Errorf("%s: verified %v, want %v", c.ID, c.Verified, when)
		}
		if strings.HasPrefix(c.ID, "kent-") != (c.Area == "Kent") {
			t.Errorf("%s: Kent contacts have IDs kent-* and area Kent", c.ID)
		}
		// Nothing tells a leader to call a council line when a child is
		// in immediate danger: that is 999.
		if c.Area == "Kent" && strings.Contains(c.Name, "immediate danger") {
			t.Errorf("%s: name %q invites a call to the council instead of 999", c.ID, c.Name)
		}
		if c.ID == "kent-urgent" || c.ID == "kent-out-of-hours" {
			if !strings.Contains(c.Notes, "call 999 first") {
				t.Errorf("%s: notes %q must send immediate danger to 999 first", c.ID, c.Notes)
			}
		}
	}
	if lado := cs[slices.IndexFunc(cs, func(c Contact) bool { return c.ID == "kent-lado" })]; lado.Email != "kentchildrenslado@kent.gov.uk" {
		t.Errorf("kent-lado email %q", lado.Email)
	}
}

func TestParseContactsErrors(t *testing.T) {
	for _, tc := range []struct{ name, src, want string }{
		{"nothing to reach", "- id: a\n  name: A\n  url: https://example.org/\n  verified: \"2026-01-01\"\n", "needs a phone, email or web"},
		{"web not https", "- id: a\n  name: A\n  web: http://example.org/\n  url: https://example.org/\n  verified: \"2026-01-01\"\n", `web "http://example.org/" must be an https address`},
		{"local outside Kent", "- id: a\n  name: A\n  phone: \"1\"\n  area: UK\n  local: Your LADO\n  url: https://example.org/\n  verified: \"2026-01-01\"\n", "local names the stand-in"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := parseContacts("c.yml", []byte(tc.src))
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "c.yml:1:") {
				t.Errorf("error %v, want c.yml:1: ... %q", err, tc.want)
			}
		})
	}
}

func ids(cs []Contact) []string {
	var out []string
	for _, c := range cs {
		out = append(out, c.ID)
	}
	return out
}

func TestWithContacts(t *testing.T) {
	p := Builtin()
	allegations, _ := p.Section("allegations-against-staff")
	const lado, socialCare = "local-your-local-authority-s-lado", "local-your-local-authority-s-children-s-social-care-in-and-out-of-hours"
	for _, tc := range []struct {
		name       string
		configured []Contact
		all        []string // ids of Contacts()
		forSection []string // ids of ContactsFor(allegations-against-staff)
		check      func(t *testing.T, q *Pack)
	}{
		{
			name:       "none configured: no Kent numbers, placeholders instead",
			all:        withoutKent,
			forSection: []string{"police-emergency", "police-101", lado, socialCare},
		},
		{
			name: "override by name keeps the built-in id and Kent's other numbers",
			configured: []Contact{{Name: "county lado SERVICE (Kent)", Phone: "03000 41 08 88",
				Email: "kentchildrenslado@kent.gov.uk", Area: "Kent", Verified: Date{Time: verifiedOn.AddDate(0, 1, 0)}}},
			all:        builtinIDs,
			forSection: []string{"police-emergency", "police-101", "kent-lado", "kent-urgent", "kent-out-of-hours"},
			check: func(t *testing.T, q *Pack) {
				c, _ := q.contactByID("kent-lado")
				if !c.Configured || !c.Verified.Equal(verifiedOn.AddDate(0, 1, 0)) {
					t.Errorf("kent-lado not replaced: %+v", c)
				}
			},
		},
		{
			name:       "override by email",
			configured: []Contact{{Name: "Kent LADO", Email: "KentChildrensLADO@kent.gov.uk", Area: "Kent"}},
			all:        builtinIDs,
			forSection: []string{"police-emergency", "police-101", "kent-lado", "kent-urgent", "kent-out-of-hours"},
		},
		{
			name:       "override by id, with no area, leaves out Kent",
			configured: []Contact{{ID: "posh", Name: "Online safety helpline", Phone: "0344 381 4772"}},
			all:        withoutKent,
			forSection: []string{"police-emergency", "police-101", lado, socialCare, "posh"},
		},
		{
			name:       "added without an area: Kent's numbers are not assumed",
			configured: []Contact{{Name: "Trust safeguarding lead", Email: "dsl@trust.example"}},
			all:        append(slices.Clone(withoutKent), "local-trust-safeguarding-lead"),
			forSection: []string{"police-emergency", "police-101", lado, socialCare, "local-trust-safeguarding-lead"},
		},
		{
			name: "another area replaces Kent's numbers",
			configured: []Contact{
				{Name: "Surrey LADO", Email: "lado@surrey.example", Area: "Surrey"},
				{Name: "Surrey LADO", Email: "other@surrey.example", Area: "Surrey"},
			},
			all:        append(slices.Clone(withoutKent), "local-surrey-lado", "local-surrey-lado-2"),
			forSection: []string{"police-emergency", "police-101", lado, socialCare, "local-surrey-lado", "local-surrey-lado-2"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q := p.WithContacts(tc.configured)
			if got := ids(q.Contacts()); !slices.Equal(got, tc.all) {
				t.Errorf("Contacts() = %q, want %q", got, tc.all)
			}
			got := q.ContactsFor(allegations)
			if !slices.Equal(ids(got), tc.forSection) {
				t.Errorf("ContactsFor() = %q, want %q", ids(got), tc.forSection)
			}
			for _, c := range got {
				if c.Placeholder && (c.Phone != "" || c.Email != "" || c.Configured || !strings.Contains(c.Notes, "child protection policy")) {
					t.Errorf("placeholder %+v", c)
				}
				if !c.Configured && strings.EqualFold(c.Area, "Kent") && !slices.ContainsFunc(tc.configured, func(c Contact) bool { return c.Area == "Kent" }) {
					t.Errorf("Kent contact %s shown to a configuration outside Kent", c.ID)
				}
			}
			if len(q.ConfiguredContacts()) != len(tc.configured) {
				t.Errorf("ConfiguredContacts() = %v", q.ConfiguredContacts())
			}
			if tc.check != nil {
				tc.check(t, q)
			}
		})
	}
	if got := ids(p.Contacts()); !slices.Equal(got, builtinIDs) {
		t.Errorf("WithContacts changed the original pack: %q", got)
	}
	again := p.WithContacts([]Contact{{Name: "Kent LADO", Area: "Kent"}}).WithContacts([]Contact{{Name: "Trust DSL"}})
	if got := ids(again.Contacts()); !slices.Equal(got, append(slices.Clone(withoutKent), "local-trust-dsl")) {
		t.Errorf("a second WithContacts should start from the built-in contacts: %q", got)
	}
}

func TestStaleContacts(t *testing.T) {
	cs := []Contact{
		{ID: "fresh", Verified: Date{Time: verifiedOn}},
		{ID: "year", Verified: Date{Time: verifiedOn.AddDate(-1, 0, 0)}},
		{ID: "old", Verified: Date{Time: verifiedOn.AddDate(-1, 0, -1)}},
		{ID: "never"},
	}
	if got := ids(StaleContacts(cs, verifiedOn, MaxContactAge)); !slices.Equal(got, []string{"old", "never"}) {
		t.Errorf("StaleContacts = %q", got)
	}
	if got := StaleContacts(Builtin().Contacts(), verifiedOn.AddDate(0, 6, 0), MaxContactAge); len(got) != 0 {
		t.Errorf("built-in contacts stale after six months: %q", ids(got))
	}
}

func TestAreaNote(t *testing.T) {
	p := Builtin()
	s, _ := p.Section("allegations-against-staff")
	if n := AreaNote(p.ContactsFor(s)); !strings.Contains(n, "Kent only") {
		t.Errorf("Kent numbers without a note: %q", n)
	}
	none := p.WithContacts(nil)
	if n := AreaNote(none.ContactsFor(s)); !strings.Contains(n, "local authority's LADO") || !strings.Contains(n, "999") {
		t.Errorf("no local contacts, note %q", n)
	}
	q := p.WithContacts([]Contact{{Name: "Surrey LADO", Phone: "01234 567890", Area: "Surrey"}})
	sg, _ := q.Section("media-enquiries")
	if n := AreaNote(q.ContactsFor(sg)); n != "" {
		t.Errorf("note with local contacts configured: %q", n)
	}
	if n := AreaNote(nil); !strings.Contains(n, "local authority") {
		t.Errorf("no contacts, note %q", n)
	}
	// Leaders never see configuration advice; the operator does.
	for _, cs := range [][]Contact{p.ContactsFor(s), none.ContactsFor(s), nil} {
		if n := AreaNote(cs); strings.Contains(n, "guidance.contacts") || strings.Contains(n, "config") {
			t.Errorf("AreaNote talks to the operator: %q", n)
		}
	}
	if n := SetupNote(none); !strings.Contains(n, "guidance.contacts") {
		t.Errorf("SetupNote without local contacts = %q", n)
	}
	if n := SetupNote(p.WithContacts([]Contact{{Name: "Trust DSL"}})); n == "" {
		t.Error("SetupNote: a contact with no area is not a local one")
	}
	if n := SetupNote(q); n != "" {
		t.Errorf("SetupNote with a local contact = %q", n)
	}
}

func TestContactText(t *testing.T) {
	for _, tc := range []struct {
		name string
		c    Contact
		want string
	}{
		{"web service", Contact{Name: "IWF", Web: "https://iwf.org.uk/report", Area: "UK", Notes: "URL only.", URL: "https://iwf.org.uk/faqs/", Verified: Date{Time: reviewedOn}},
			"IWF\n  https://iwf.org.uk/report\n  URL only.\n  Source: https://iwf.org.uk/faqs/ (verified 30 November 2026)\n"},
		{"placeholder", Contact{Name: "Your local authority's LADO", Notes: localNote, Placeholder: true},
			"Your local authority's LADO\n  Not set up in schoolwatch for your school. Use the number in your\n  child protection policy, or find it on your local safeguarding\n  children partnership's website.\n"},
		{"configured without source", Contact{Name: "Trust DSL", Email: "dsl@trust.example", Configured: true},
			"Trust DSL\n  dsl@trust.example\n  (not verified)\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.c.Text(); got != tc.want {
				t.Errorf("Text():\n%s\nwant:\n%s", got, tc.want)
			}
			html := string(ContactsHTML([]Contact{tc.c}))
			if tc.c.Web != "" && !strings.Contains(html, `<a href="`+tc.c.Web+`">`) {
				t.Errorf("HTML lacks the web link: %s", html)
			}
			if tc.c.Placeholder && strings.Contains(html, "verified") {
				t.Errorf("placeholder shown as unverified: %s", html)
			}
		})
	}
}
