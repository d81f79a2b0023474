package guidance

import (
	"slices"
	"strings"
	"testing"
	"time"
)

var verifiedOn = time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)

func TestBuiltinContacts(t *testing.T) {
	cs := Builtin().Contacts()
	want := map[string]string{ // id: phone, exactly as the public sources give them
		"posh":              "0344 381 4772",
		"kent-lado":         "03000 41 08 88",
		"kent-urgent":       "03000 41 11 11",
		"kent-out-of-hours": "03000 41 91 91",
		"police-emergency":  "999",
		"police-101":        "101",
	}
	if len(cs) != len(want) {
		t.Errorf("%d built-in contacts, want %d", len(cs), len(want))
	}
	for _, c := range cs {
		if want[c.ID] != c.Phone {
			t.Errorf("%s: phone %q, want %q", c.ID, c.Phone, want[c.ID])
		}
		if !strings.HasPrefix(c.URL, "https://") || c.Area == "" || c.Configured {
			t.Errorf("%s: needs an https source and an area: %+v", c.ID, c)
		}
		if !c.Verified.Equal(verifiedOn) {
			t.Errorf("%s: verified %v", c.ID, c.Verified)
		}
		if strings.HasPrefix(c.ID, "kent-") != (c.Area == "Kent") {
			t.Errorf("%s: Kent contacts have IDs kent-* and area Kent", c.ID)
		}
	}
	if lado := cs[slices.IndexFunc(cs, func(c Contact) bool { return c.ID == "kent-lado" })]; lado.Email != "kentchildrenslado@kent.gov.uk" {
		t.Errorf("kent-lado email %q", lado.Email)
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
	for _, tc := range []struct {
		name       string
		configured []Contact
		all        []string // ids of Contacts()
		forSection []string // ids of ContactsFor(allegations-against-staff)
		check      func(t *testing.T, q *Pack)
	}{
		{
			name:       "none configured",
			all:        []string{"posh", "kent-lado", "kent-urgent", "kent-out-of-hours", "police-emergency", "police-101"},
			forSection: []string{"kent-lado", "kent-urgent", "kent-out-of-hours", "police-emergency"},
		},
		{
			name: "override by name keeps the built-in id",
			configured: []Contact{{Name: "county lado SERVICE (Kent)", Phone: "03000 41 08 88",
				Email: "kentchildrenslado@kent.gov.uk", Area: "Kent", Verified: verifiedOn.AddDate(0, 1, 0)}},
			all:        []string{"posh", "kent-lado", "kent-urgent", "kent-out-of-hours", "police-emergency", "police-101"},
			forSection: []string{"kent-lado", "kent-urgent", "kent-out-of-hours", "police-emergency"},
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
			all:        []string{"posh", "kent-lado", "kent-urgent", "kent-out-of-hours", "police-emergency", "police-101"},
			forSection: []string{"kent-lado", "kent-urgent", "kent-out-of-hours", "police-emergency"},
		},
		{
			name:       "override by id",
			configured: []Contact{{ID: "posh", Name: "Online safety helpline", Phone: "0344 381 4772"}},
			all:        []string{"posh", "kent-lado", "kent-urgent", "kent-out-of-hours", "police-emergency", "police-101"},
			forSection: []string{"kent-lado", "kent-urgent", "kent-out-of-hours", "police-emergency", "posh"},
		},
		{
			name:       "added without an area keeps Kent's numbers",
			configured: []Contact{{Name: "Trust safeguarding lead", Email: "dsl@trust.example"}},
			all:        []string{"posh", "kent-lado", "kent-urgent", "kent-out-of-hours", "police-emergency", "police-101", "local-trust-safeguarding-lead"},
			forSection: []string{"kent-lado", "kent-urgent", "kent-out-of-hours", "police-emergency", "local-trust-safeguarding-lead"},
		},
		{
			name: "another area replaces Kent's numbers",
			configured: []Contact{
				{Name: "Surrey LADO", Email: "lado@surrey.example", Area: "Surrey"},
				{Name: "Surrey LADO", Email: "other@surrey.example", Area: "Surrey"},
			},
			all:        []string{"posh", "police-emergency", "police-101", "local-surrey-lado", "local-surrey-lado-2"},
			forSection: []string{"police-emergency", "local-surrey-lado", "local-surrey-lado-2"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q := p.WithContacts(tc.configured)
			if got := ids(q.Contacts()); !slices.Equal(got, tc.all) {
				t.Errorf("Contacts() = %q, want %q", got, tc.all)
			}
			if got := ids(q.ContactsFor(allegations)); !slices.Equal(got, tc.forSection) {
				t.Errorf("ContactsFor() = %q, want %q", got, tc.forSection)
			}
			if len(q.ConfiguredContacts()) != len(tc.configured) {
				t.Errorf("ConfiguredContacts() = %v", q.ConfiguredContacts())
			}
			if tc.check != nil {
				tc.check(t, q)
			}
		})
	}
	if got := ids(p.Contacts()); len(got) != 6 {
		t.Errorf("WithContacts changed the original pack: %q", got)
	}
	again := p.WithContacts([]Contact{{Name: "Surrey LADO", Area: "Surrey"}}).WithContacts([]Contact{{Name: "Trust DSL"}})
	if got := ids(again.Contacts()); !slices.Equal(got, []string{"posh", "kent-lado", "kent-urgent", "kent-out-of-hours", "police-emergency", "police-101", "local-trust-dsl"}) {
		t.Errorf("a second WithContacts should start from the built-in contacts: %q", got)
	}
}

func TestStaleContacts(t *testing.T) {
	cs := []Contact{
		{ID: "fresh", Verified: verifiedOn},
		{ID: "year", Verified: verifiedOn.AddDate(-1, 0, 0)},
		{ID: "old", Verified: verifiedOn.AddDate(-1, 0, -1)},
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
	if n := AreaNote(p.ContactsFor(s)); !strings.Contains(n, "Kent") || !strings.Contains(n, "guidance.contacts") {
		t.Errorf("Kent numbers without a note: %q", n)
	}
	q := p.WithContacts([]Contact{{Name: "Surrey LADO", Phone: "01234 567890", Area: "Surrey"}})
	if n := AreaNote(q.ContactsFor(s)); n != "" {
		t.Errorf("note with local contacts configured: %q", n)
	}
	if n := AreaNote(nil); !strings.Contains(n, "guidance.contacts") {
		t.Errorf("no contacts, note %q", n)
	}
}
