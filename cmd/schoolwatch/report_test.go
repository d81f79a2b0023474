package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestReportCommand runs `report` on the example config with mail to
// files: the leaders' .eml holds the reported link and the matching
// guidance; the text may come from standard input.
func TestReportCommand(t *testing.T) {
	dir := t.TempDir()
	cfg := demoConfig(t, dir, "http://127.0.0.1:1", "")
	mailDir := filepath.Join(dir, "var/mail")
	link := "https://x.com/someone/status/1864"
	stdout, stderr, code := run(t, "report", "-config", cfg, "-school", "990001", "-url", link, "-where", "X", "-author", "@someone",
		"They", "will", "bring", "a", "knife", "to", "the", "school", "gates", "tomorrow")
	if code != 0 {
		t.Fatalf("report exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	if !strings.Contains(stdout, "CRITICAL\tthreat\tschool=990001\trule=threat\tguidance=threats-and-harassment\tmatched") {
		t.Errorf("stdout:\n%s", stdout)
	}
	if !strings.Contains(stderr, "2 mails queued, 2 delivered, 0 waiting") {
		t.Errorf("stderr:\n%s", stderr)
	}
	mails := readEML(t, mailDir)
	if len(mails) != 2 {
		t.Fatalf("%d mails, want the head's and the DSL's", len(mails))
	}
	for _, m := range mails {
		if m.to != "<head@stmarys.example.org>" && m.to != "<dsl@stmarys.example.org>" {
			t.Errorf("mail to %s", m.to)
		}
		for _, want := range []string{link, "Threats, abuse or harassment", "Before you respond"} {
			if !strings.Contains(m.body, want) {
				t.Errorf("the mail to %s lacks %q", m.to, want)
			}
		}
	}

	// From standard input, matching no rule: the head alone, first steps.
	f, err := os.CreateTemp(dir, "stdin")
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("Has anyone seen the plans for the new car park?\n")
	f.Seek(0, 0)
	old := os.Stdin
	os.Stdin = f
	defer func() { os.Stdin = old; f.Close() }()
	stdout, stderr, code = run(t, "report", "-config", cfg, "-school", "990002", "-where", "Nextdoor")
	if code != 0 {
		t.Fatalf("report from stdin exit %d\n%s", code, stderr)
	}
	if !strings.Contains(stdout, "NORMAL\tother\tschool=990002\trule=reported-post\tguidance=first-steps\treported") {
		t.Errorf("stdout:\n%s", stdout)
	}
	var head []sentMail
	for _, m := range readEML(t, mailDir) {
		if strings.Contains(m.to, "harbourside") {
			head = append(head, m)
		}
	}
	if len(head) != 1 || head[0].to != "<principal@harbourside.example.org>" || !strings.Contains(head[0].body, "Before you respond") {
		t.Errorf("Harbourside mails = %+v, want one to the head with the first steps", head)
	}

	// Usage errors exit 2; an unknown school exits 1 naming the known ones.
	if _, _, code := run(t, "report", "-config", cfg, "text"); code != 2 {
		t.Errorf("report without -school exit %d, want 2", code)
	}
	if _, stderr, code := run(t, "report", "-config", cfg, "-school", "nope", "text"); code != 1 || !strings.Contains(stderr, "990001") {
		t.Errorf("report -school nope exit %d: %s", code, stderr)
	}
}
