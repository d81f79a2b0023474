package gias

import (
	"slices"
	"strings"
	"testing"
)

func TestNames(t *testing.T) {
	cases := []struct {
		name, town string
		short      string
		aliases    []string
	}{
		{"St Mary's Church of England Primary School", "Folkestone", "St Mary's", []string{"St Mary's Folkestone"}},
		{"St Mary’s C of E (VA) Primary School", "Hythe", "St Mary’s", []string{"St Mary’s Hythe"}},
		{"Sandgate Primary School", "Folkestone", "Sandgate", []string{"Sandgate Folkestone"}},
		{"Folkestone Academy", "Folkestone", "", nil},                                         // only the town is left
		{"The Folkestone School for Girls", "Folkestone", "Folkestone School for Girls", nil}, // "The" goes
		{"Dover Grammar School for Boys", "Dover", "", nil},
		{"Harbour Way Community Primary School", "Dover", "Harbour Way", []string{"Harbour Way Dover"}},
		{"St Peter & St Paul Catholic Primary School", "Deal", "St Peter & St Paul", []string{"St Peter & St Paul Deal", "St Peter and St Paul Catholic Primary School", "St Peter and St Paul"}},
		{"Oakfield Primary School - A Swale Academies Trust School", "Sittingbourne", "Oakfield", []string{"Oakfield Sittingbourne"}},
		{"Kingsmead", "Canterbury", "", nil},
		{"Our Lady of Hartley Catholic Primary School", "Longfield", "Our Lady of Hartley", []string{"Our Lady of Hartley Longfield"}},
		{"Folkestone Primary", "Folkestone", "", nil},
		{"Saint School", "", "", nil},
	}
	for _, tc := range cases {
		short, aliases := names(tc.name, tc.town)
		if short != tc.short || !slices.Equal(aliases, tc.aliases) {
			t.Errorf("names(%q, %q) = %q, %q; want %q, %q", tc.name, tc.town, short, aliases, tc.short, tc.aliases)
		}
	}
}

func TestPlaces(t *testing.T) {
	e := Establishment{Town: "Folkestone", Locality: "Cheriton", Address3: "FOLKESTONE", Postcode: "ct20 2rb", Trust: "THE KEMNAL ACADEMIES TRUST"}
	if got, want := places(e), []string{"Cheriton", "CT20", "The Kemnal Academies Trust"}; !slices.Equal(got, want) {
		t.Errorf("places = %q, want %q", got, want)
	}
	for in, want := range map[string]string{"CT20 2RB": "CT20", "SW1A 1AA": "SW1A", "M1 1AE": "M1", "n/a": "", "CT20": "", "2RB CT20": ""} {
		if got := postcodeDistrict(in); got != want {
			t.Errorf("postcodeDistrict(%q) = %q, want %q", in, got, want)
		}
	}
	for in, want := range map[string]string{
		"BURNHAM-ON-SEA": "Burnham-on-Sea", "DIOCESE OF CANTERBURY ACADEMIES TRUST": "Diocese of Canterbury Academies Trust",
		"ST MARY'S CE TRUST": "St Mary's CE Trust", "Leigh Academies Trust": "Leigh Academies Trust", "": "",
	} {
		if got := tidyCaps(in); got != want {
			t.Errorf("tidyCaps(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestDomainOf(t *testing.T) {
	for in, want := range map[string]string{
		"www.stmarys.kent.sch.uk":                 "stmarys.kent.sch.uk",
		"http://www.StMarys.kent.sch.uk/":         "stmarys.kent.sch.uk",
		"https://oakfield.org.uk/home/index.html": "oakfield.org.uk",
		"WWW.ELM.CO.UK":                           "elm.co.uk",
		"https://elm.co.uk:8443/x":                "elm.co.uk",
		"":                                        "",
		"  ":                                      "",
	} {
		got, ok := domainOf(in)
		if !ok || got != want {
			t.Errorf("domainOf(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
	for _, in := range []string{"n/a", "http//elm", "mailto:head@elm.example", "www.elm", "https://192.168.0.1/", "ftp://elm.co.uk", "www.-bad-.org.uk", "elm school.org.uk"} {
		if got, ok := domainOf(in); ok {
			t.Errorf("domainOf(%q) = %q, true; want it rejected", in, got)
		}
	}
}

func TestSlug(t *testing.T) {
	for in, want := range map[string]string{
		"St Mary's C.E. Primary":      "st-marys-ce-primary",
		"St Thomas à Becket":          "st-thomas-a-becket",
		"Brontë & Co — Academy":       "bronte-co-academy",
		"  ":                          "",
		"Saint-Exupéry (The) School ": "saint-exupery-the-school",
	} {
		if got := slug(in); got != want {
			t.Errorf("slug(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestParseLeaderTemplate(t *testing.T) {
	for _, ok := range []string{"head=head@{domain}", "dsl=dsl-{urn}@la.example.gov.uk", "office={name}@schools.example.org", "dsl=Safeguarding lead <dsl-{urn}@la.example.gov.uk>"} {
		if _, err := ParseLeaderTemplate(ok); err != nil {
			t.Errorf("%s: %v", ok, err)
		}
	}
	for in, want := range map[string]string{
		"head":                    "want ROLE=TEMPLATE",
		"=head@{domain}":          "want ROLE=TEMPLATE",
		"Head=head@{domain}":      `role "Head"`,
		"head=head@{website}":     "unknown placeholder {website}",
		"head={domain}":           `"school.example.sch.uk" is not an email address`,
		"head=head@{domain}\nBcc": "is not an email address",
	} {
		if _, err := ParseLeaderTemplate(in); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: error = %v, want %q", in, err, want)
		}
	}
}

func TestFillLeaders(t *testing.T) {
	must := func(s string) LeaderTemplate {
		lt, err := ParseLeaderTemplate(s)
		if err != nil {
			t.Fatal(err)
		}
		return lt
	}
	templates := []LeaderTemplate{must("head=head@{domain}"), must("dsl=dsl-{urn}@la.example.gov.uk"), must("office=head@{domain}"), must("comms=Comms <{name}@trust.example.org>")}
	s := School{From: Establishment{Line: 9, Website: "www.oak.sch.uk", HeadTitle: "Mrs", HeadFirstName: "Jane", HeadLastName: "O’Brien"}}
	s.ID, s.Name, s.Domains = "118001", "Oak Primary School", []string{"oak.sch.uk"}
	if w := fillLeaders(&s, templates); len(w) != 0 {
		t.Errorf("warnings: %v", w)
	}
	var got []string
	for _, l := range s.Leaders {
		got = append(got, l.Name+" <"+l.Email+"> "+strings.Join(l.Roles, ","))
	}
	want := []string{
		"Mrs Jane O’Brien <head@oak.sch.uk> head,office",
		" <dsl-118001@la.example.gov.uk> dsl",
		"Comms <oak-primary-school@trust.example.org> comms",
	}
	if !slices.Equal(got, want) {
		t.Errorf("leaders:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	s = School{From: Establishment{Line: 12}}
	s.ID, s.Name = "118002", "Elm School"
	w := fillLeaders(&s, templates[:2])
	if len(s.Leaders) != 1 || s.Leaders[0].Roles[0] != "dsl" {
		t.Errorf("leaders = %+v", s.Leaders)
	}
	if len(w) != 1 || w[0].String() != "line 12: URN 118002: no head leader (head@{domain}): the register has no website for it" {
		t.Errorf("warnings = %v", w)
	}
}

// TestSharedDomainsAndAliasesDropped: a website several schools share (a
// trust's) is no school's domain, and a short name or alias two schools
// were given names neither.
func TestSharedDomainsAndAliasesDropped(t *testing.T) {
	imp := &Import{Schools: []School{
		{From: Establishment{URN: "1", Name: "St Mary's Church of England Primary School", Town: "Folkestone", Website: "www.trust.org.uk/stmarys"}},
		{From: Establishment{URN: "2", Name: "St Mary's Catholic Primary School", Town: "Folkestone", Website: "https://trust.org.uk/"}},
		{From: Establishment{URN: "3", Name: "St Mary's Primary School", Town: "Dover", Website: "stmarys-dover.sch.uk"}},
	}}
	w := imp.build([]LeaderTemplate{{"head", "head@{domain}"}})
	for _, s := range imp.Schools[:2] {
		if len(s.Domains) != 0 || s.ShortName != "" || len(s.Aliases) != 0 || len(s.Leaders) != 0 {
			t.Errorf("school %s keeps a shared part: %+v", s.ID, s.School)
		}
	}
	if s := imp.Schools[2]; s.ShortName != "" || !slices.Equal(s.Aliases, []string{"St Mary's Dover"}) || !slices.Equal(s.Domains, []string{"stmarys-dover.sch.uk"}) {
		t.Errorf("school 3 = %+v", s.School)
	}
	if len(w) != 3 || !strings.Contains(w[0].Msg, "trust.org.uk is the website of 2 schools (URN 1, 2)") {
		t.Errorf("warnings = %v", w)
	}
}
