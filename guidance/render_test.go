package guidance

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./guidance -update to create it)", err)
	}
	if got == string(want) {
		return
	}
	g, w := strings.Split(got, "\n"), strings.Split(string(want), "\n")
	for i := 0; i < max(len(g), len(w)); i++ {
		var gl, wl string
		if i < len(g) {
			gl = g[i]
		}
		if i < len(w) {
			wl = w[i]
		}
		if gl != wl {
			t.Errorf("%s:%d differs (run go test ./guidance -update and review the diff)\n got: %q\nwant: %q", path, i+1, gl, wl)
			return
		}
	}
}

// TestGoldenSections renders every built-in section as the CLI shows it and
// as the mail's HTML part carries it.
func TestGoldenSections(t *testing.T) {
	p := Builtin()
	for _, s := range p.Sections() {
		t.Run(s.ID, func(t *testing.T) {
			cs := p.ContactsFor(s)
			golden(t, filepath.Join("golden", s.ID+".txt"), s.Text()+"\n"+ContactsText(cs))
			golden(t, filepath.Join("golden", s.ID+".html"), string(s.HTML())+string(ContactsHTML(cs)))
		})
	}
}

// TestGoldenConfiguredContacts renders a section for a school outside Kent
// that has set its own LADO: Kent's numbers give way to the configured one.
func TestGoldenConfiguredContacts(t *testing.T) {
	p := Builtin().WithContacts([]Contact{{
		Name: "Example LADO service", Phone: "01632 960000", Email: "lado@example.gov.uk",
		URL: "https://example.gov.uk/lado", Area: "Exampleshire", Verified: Date{Time: verifiedOn},
	}})
	s, _ := p.Section("allegations-against-staff")
	cs := p.ContactsFor(s)
	got := ContactsText(cs)
	if strings.Contains(got, "03000") || strings.Contains(got, "Numbers marked Kent") {
		t.Errorf("Kent's numbers shown to a school elsewhere:\n%s", got)
	}
	golden(t, filepath.Join("golden", "contacts-configured.txt"), got)
	golden(t, filepath.Join("golden", "contacts-configured.html"), string(ContactsHTML(cs)))
}

// TestGoldenUnconfiguredContacts renders a section for a configuration
// with no local contacts: no Kent numbers, and a placeholder for the LADO
// and children's social care instead.
func TestGoldenUnconfiguredContacts(t *testing.T) {
	p := Builtin().WithContacts(nil)
	s, _ := p.Section("allegations-against-staff")
	cs := p.ContactsFor(s)
	got := ContactsText(cs)
	if strings.Contains(got, "03000") || strings.Contains(got, "Kent") || !strings.Contains(got, "Your local authority's LADO") {
		t.Errorf("unconfigured contacts:\n%s", got)
	}
	golden(t, filepath.Join("golden", "contacts-unconfigured.txt"), got)
	golden(t, filepath.Join("golden", "contacts-unconfigured.html"), string(ContactsHTML(cs)))
}

func TestGoldenLetters(t *testing.T) {
	p := Builtin()
	d := LetterData{
		School:     "St Mary's Church of England Primary School",
		SchoolTown: "Folkestone",
		Head:       "A Head",
		Date:       "25 November 2026",
		Platform:   "Facebook",
	}
	for _, l := range p.Letters() {
		t.Run(l.ID, func(t *testing.T) {
			got, err := p.Letter(l.ID, d)
			if err != nil {
				t.Fatal(err)
			}
			golden(t, filepath.Join("golden", "letter-"+l.ID+".txt"), got)
			blank, err := p.Letter(l.ID, LetterData{})
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(blank, "[name]") && !strings.Contains(blank, "[name of") {
				t.Errorf("an empty LetterData should leave prompts:\n%s", blank)
			}
			if strings.Contains(blank, "<no value>") {
				t.Errorf("unfilled field printed as <no value>:\n%s", blank)
			}
		})
	}
	if _, err := p.Letter("no-such-letter", d); err == nil || !strings.Contains(err.Error(), "invite-to-meet") {
		t.Errorf("unknown letter error %v should list the letters", err)
	}
}

func TestHTMLIsSafe(t *testing.T) {
	for _, tc := range []struct {
		name, md  string
		want      []string
		forbidden []string
	}{
		{"raw html block", "<script>alert(1)</script>\n\ntext", []string{"<p>text</p>"}, []string{"<script", "alert", "raw HTML"}},
		{"inline html", "a <img src=x onerror=alert(1)> b", []string{"<p>a  b</p>"}, []string{"<img", "onerror"}},
		{"javascript link", "[click](javascript:alert(1))", []string{"<p>click</p>"}, []string{"javascript", "href"}},
		{"data link", "[x](data:text/html;base64,PHNjcmlwdD4=)", []string{"<p>x</p>"}, []string{"data:", "href"}},
		{"relative link", "[policy](../policy.pdf)", []string{"<p>policy</p>"}, []string{"href"}},
		{"image", "![a pupil](https://example.org/p.jpg)", []string{"<p>a pupil</p>"}, []string{"<img", "p.jpg"}},
		{"https link", "[Kelsi](https://www.kelsi.org.uk/x)", []string{`<a href="https://www.kelsi.org.uk/x">Kelsi</a>`}, nil},
		{"mailto and tel", "[mail](mailto:a@example.org) [ring](tel:101)", []string{`href="mailto:a@example.org"`, `href="tel:101"`}, nil},
		{"bare url", "see https://www.police.uk/ now", []string{`<a href="https://www.police.uk/">https://www.police.uk/</a>`}, nil},
		{"bare email", "write to helpline@saferinternet.org.uk", []string{`href="mailto:helpline@saferinternet.org.uk"`}, nil},
		{"escaped text", "Fish & chips <3", []string{"Fish &amp; chips &lt;3"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := string(renderHTML(tc.md))
			for _, w := range tc.want {
				if !strings.Contains(got, w) {
					t.Errorf("HTML %q lacks %q", got, w)
				}
			}
			for _, f := range tc.forbidden {
				if strings.Contains(got, f) {
					t.Errorf("HTML %q contains %q", got, f)
				}
			}
		})
	}
}

func TestText(t *testing.T) {
	md := "## Do now\n\n1. Ring the [LADO](https://example.org/lado) now.\n2. Write to <helpline@saferinternet.org.uk>.\n   - even on *Fridays*\n\nA <b>bold</b> claim.\n"
	want := `Do now
------

1. Ring the LADO (https://example.org/lado) now.
2. Write to helpline@saferinternet.org.uk.
   - even on "Fridays"

A bold claim.
`
	if got := renderText(md); got != want {
		t.Errorf("renderText:\n%s\nwant:\n%s", got, want)
	}
	long := strings.Repeat("word ", 40)
	for _, l := range strings.Split(renderText("- "+long), "\n") {
		if len(l) > textWidth {
			t.Errorf("line longer than %d: %q", textWidth, l)
		}
	}
}

func TestContactsHTMLEscapes(t *testing.T) {
	cs := []Contact{{Name: "<script>x</script>", Phone: "01234 567890", Email: "a@example.org", URL: "javascript:alert(1)", Area: "Surrey", Configured: true}}
	got := string(ContactsHTML(cs))
	for _, f := range []string{"<script>", `href="javascript:`} {
		if strings.Contains(got, f) {
			t.Errorf("contacts HTML contains %q: %s", f, got)
		}
	}
	if !strings.Contains(got, `href="tel:01234567890"`) || !strings.Contains(got, "(Surrey)") {
		t.Errorf("contacts HTML: %s", got)
	}
}
