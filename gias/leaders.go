package gias

import (
	"errors"
	"fmt"
	"net/mail"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"

	"github.com/schoolwatch/schoolwatch/config"
)

// LeaderTemplate makes one leader of each school: Role, and an address
// from Template with {domain} (the school's website domain), {urn} and
// {name} (the school's name as an address-safe slug, "st-marys-primary")
// filled in. A template may carry a display name, as in
// "Safeguarding lead <dsl-{urn}@la.example.gov.uk>".
type LeaderTemplate struct {
	Role, Template string
}

var (
	roleRE        = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)
	placeholderRE = regexp.MustCompile(`\{[^{}]*\}`)
)

// Placeholders are what a leader template may contain.
var Placeholders = []string{"{domain}", "{urn}", "{name}"}

// ParseLeaderTemplate parses ROLE=TEMPLATE, as in head=head@{domain}.
func ParseLeaderTemplate(s string) (LeaderTemplate, error) {
	role, tmpl, ok := strings.Cut(s, "=")
	role, tmpl = strings.TrimSpace(role), strings.TrimSpace(tmpl)
	if !ok || role == "" || tmpl == "" {
		return LeaderTemplate{}, fmt.Errorf("%q: want ROLE=TEMPLATE, as in head=head@{domain}", s)
	}
	if !roleRE.MatchString(role) {
		return LeaderTemplate{}, fmt.Errorf("%q: role %q: lower-case letters, digits and _ only, as in head or dsl", s, role)
	}
	for _, p := range placeholderRE.FindAllString(tmpl, -1) {
		if !slices.Contains(Placeholders, p) {
			return LeaderTemplate{}, fmt.Errorf("%q: unknown placeholder %s (known: %s)", s, p, strings.Join(Placeholders, " "))
		}
	}
	// A template with every placeholder filled must be an address.
	if _, err := fill(tmpl, "school.example.sch.uk", "100000", "school"); err != nil {
		return LeaderTemplate{}, fmt.Errorf("%q: %v", s, err)
	}
	return LeaderTemplate{Role: role, Template: tmpl}, nil
}

// String is the template as given on the command line: ROLE=TEMPLATE.
func (t LeaderTemplate) String() string { return t.Role + "=" + t.Template }

var errNoDomain = errors.New("no website domain for {domain}")

// fill returns the template's address for a school.
func fill(tmpl, domain, urn, name string) (*mail.Address, error) {
	if strings.Contains(tmpl, "{domain}") && domain == "" {
		return nil, errNoDomain
	}
	if strings.Contains(tmpl, "{name}") && name == "" {
		return nil, errors.New("the name has no letters or digits for {name}")
	}
	s := strings.NewReplacer("{domain}", domain, "{urn}", urn, "{name}", name).Replace(tmpl)
	a, err := mail.ParseAddress(s)
	if err != nil || !strings.Contains(a.Address, "@") || strings.ContainsAny(s, "\r\n") {
		return nil, fmt.Errorf("%q is not an email address", s)
	}
	return a, nil
}

// fillLeaders gives s a leader for each template it can fill; one address
// from several templates is one leader with all their roles. The head
// teacher's name from the register goes with the head role.
func fillLeaders(s *School, templates []LeaderTemplate) []Warning {
	var warns []Warning
	domain := ""
	if len(s.Domains) > 0 {
		domain = s.Domains[0]
	}
	for _, t := range templates {
		a, err := fill(t.Template, domain, s.ID, slug(s.Name))
		if err != nil {
			msg := fmt.Sprintf("no %s leader (%s): %v", t.Role, t.Template, err)
			switch {
			case errors.Is(err, errNoDomain) && s.From.Website == "":
				msg = fmt.Sprintf("no %s leader (%s): the register has no website for it", t.Role, t.Template)
			case errors.Is(err, errNoDomain):
				msg = fmt.Sprintf("no %s leader (%s): its website %q gives no domain of its own", t.Role, t.Template, s.From.Website)
			}
			warns = append(warns, Warning{Line: s.From.Line, URN: s.ID, Msg: msg})
			continue
		}
		addr := strings.ToLower(a.Address)
		i := slices.IndexFunc(s.Leaders, func(l config.Leader) bool { return strings.EqualFold(l.Email, addr) })
		if i < 0 {
			s.Leaders = append(s.Leaders, config.Leader{Name: a.Name, Email: addr})
			i = len(s.Leaders) - 1
		}
		l := &s.Leaders[i]
		if !slices.Contains(l.Roles, t.Role) {
			l.Roles = append(l.Roles, t.Role)
		}
		if l.Name == "" && t.Role == "head" {
			l.Name = headName(s.From)
		}
	}
	return warns
}

// headName is the head teacher's name as the register gives it.
func headName(e Establishment) string {
	title := e.HeadTitle
	if strings.EqualFold(title, "Not applicable") || strings.EqualFold(title, "Not recorded") {
		title = ""
	}
	if e.HeadFirstName == "" && e.HeadLastName == "" {
		return ""
	}
	return strings.Join(strings.Fields(title+" "+e.HeadFirstName+" "+e.HeadLastName), " ")
}

// slug is name as lower-case ASCII words joined by hyphens, accents
// dropped and apostrophes closed up: "St Mary's C.E. Primary" →
// "st-marys-ce-primary".
func slug(name string) string {
	var b strings.Builder
	dash := false
	for _, r := range norm.NFD.String(name) {
		switch {
		case unicode.Is(unicode.Mn, r), r == '\'', r == '’', r == '.':
		case r < unicode.MaxASCII && (unicode.IsLetter(r) || unicode.IsDigit(r)):
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			dash = false
			b.WriteRune(unicode.ToLower(r))
		default:
			dash = true
		}
	}
	return b.String()
}

// domainOf is the host of a SchoolWebsite value without "www.", lower-case:
// "http://www.StMarys.kent.sch.uk/home" → "stmarys.kent.sch.uk". It is ""
// and true for an empty value, and false for one that is no web address.
func domainOf(website string) (string, bool) {
	w := strings.TrimSpace(website)
	if w == "" {
		return "", true
	}
	if !strings.Contains(w, "://") {
		w = "http://" + w
	}
	u, err := url.Parse(w)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.User != nil {
		return "", false
	}
	h := strings.TrimSuffix(strings.ToLower(u.Hostname()), ".")
	h = strings.TrimPrefix(h, "www.")
	if !isHostname(h) {
		return "", false
	}
	return h, true
}

// isHostname reports whether h is a DNS name of two or more labels with an
// alphabetic top-level one.
func isHostname(h string) bool {
	labels := strings.Split(h, ".")
	if len(labels) < 2 || len(h) > 253 {
		return false
	}
	for _, l := range labels {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for i := 0; i < len(l); i++ {
			c := l[i]
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
				return false
			}
		}
	}
	tld := labels[len(labels)-1]
	for i := 0; i < len(tld); i++ {
		if tld[i] < 'a' || tld[i] > 'z' {
			return false
		}
	}
	return len(tld) >= 2
}
