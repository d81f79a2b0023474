package alerts

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/schoolwatch/schoolwatch/mail"
	"github.com/schoolwatch/schoolwatch/rules"
	"github.com/schoolwatch/schoolwatch/store"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// goldenGroup is a fixed two-item alert for one leader: a critical threat
// and a high allegation matched by two rules, with fixed times.
func goldenGroup(t testing.TB) *Group {
	t.Helper()
	pub := time.Date(2026, 11, 24, 21, 15, 0, 0, time.UTC)
	threat := Alert{
		ItemKey: "g:news:101", FeedID: "news", FeedName: "Folkestone Gazette", Title: "Parents worried after threat posted about St Mary's",
		Link: "https://news.example.org/st-marys-threat", Author: "Gazette reporter", Published: pub, Dated: true,
		SchoolID: "118123", SchoolName: "St Mary's CE Primary", RuleID: "threat", Category: "threat", Severity: "critical",
		Guidance: "threats-and-harassment", Matched: []string{"st marys", "going to hurt"}, Names: []string{"St Mary's"}, Says: []string{"going to hurt"},
		Excerpt: []rules.Fragment{{Text: "…a post on a local group said someone was "}, {Text: "going to hurt", Hit: true}, {Text: " staff at St Mary's on Monday…"}},
	}
	allegation := Alert{
		ItemKey: "g:forum:7", FeedID: "forum", FeedName: "Community forum", Title: "Teacher at St Mary's <b>should be sacked</b>",
		Link: "https://forum.example.org/t/7", Published: pub.Add(-2 * time.Hour), Dated: false,
		SchoolID: "118123", SchoolName: "St Mary's CE Primary", RuleID: "allegation", Category: "allegation", Severity: "high",
		Guidance: "allegations-against-staff", Matched: []string{"st marys", "teacher", "slapped"}, Names: []string{"St Mary's"}, Says: []string{"teacher", "slapped"},
		Excerpt: []rules.Fragment{{Text: "my son says a "}, {Text: "teacher", Hit: true}, {Text: " "}, {Text: "slapped", Hit: true}, {Text: " him <script>x</script>"}},
	}
	defamation := allegation
	defamation.RuleID, defamation.Category, defamation.Severity, defamation.Guidance = "defamation", "defamation", "normal", "defamation-and-legal"
	var ps []store.Pending
	for i, f := range []Alert{allegation, defamation, threat} {
		p := pendingFor(t, "head@stmarys.example.org", f.SchoolID, f)
		p.ID, p.Created = int64(i+1), pub
		ps = append(ps, p)
	}
	return groupPending(ps, rules.Immediate)[0]
}

// TestRenderGolden compares both parts of a rendered alert with
// testdata/alert.txt.golden and alert.html.golden (go test -update rewrites
// them). The guidance pack is part of the mail, so editing a section
// changes the goldens too: review the diff and update.
func TestRenderGolden(t *testing.T) {
	r := testRenderer()
	r.Location = time.FixedZone("GMT", 0)
	m, err := r.Render(goldenGroup(t), time.Date(2026, 11, 25, 7, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	hdr, text, html := mailParts(t, m.Raw)
	if want := "[schoolwatch][CRITICAL] Possible threat — St Mary's CE Primary (+1 more)"; m.Subject != want {
		t.Errorf("subject = %q, want %q", m.Subject, want)
	}
	if hdr.Get("Message-ID") != mail.MessageID(m.Key, "test.invalid") {
		t.Errorf("Message-ID = %q", hdr.Get("Message-ID"))
	}
	// The wire format has CRLF line ends; the goldens keep LF for readable diffs.
	lf := func(s string) []byte { return bytes.ReplaceAll([]byte(s), []byte("\r\n"), []byte("\n")) }
	for name, part := range map[string]string{"alert.txt.golden": text, "alert.html.golden": html} {
		got := lf(part)
		path := filepath.Join("testdata", name)
		if *update {
			if err := os.WriteFile(path, got, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run go test ./alerts -run Golden -update)", err)
		}
		if !bytes.Equal(lf(string(want)), got) {
			t.Errorf("%s differs from the rendered part; run go test ./alerts -run Golden -update and review the diff.\ngot:\n%s", name, got)
		}
	}
}

// BenchmarkRender renders the golden two-item alert (both parts, the
// guidance sections and the MIME message).
func BenchmarkRender(b *testing.B) {
	grp := goldenGroup(b)
	r := testRenderer()
	now := time.Date(2026, 11, 25, 7, 0, 0, 0, time.UTC)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := r.Render(grp, now); err != nil {
			b.Fatal(err)
		}
	}
}
