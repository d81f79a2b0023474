package daemon

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/schoolwatch/schoolwatch/store"
)

// reportPlan is the example config, its store and mail in a fresh folder.
func reportPlan(t *testing.T) (*Plan, string) {
	t.Helper()
	dir := t.TempDir()
	p, err := Compile(demoConfig(t, dir, "http://127.0.0.1:1"), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return p, filepath.Join(dir, "var/mail")
}

func mailsTo(ms []emlMail, addr string) []emlMail {
	var out []emlMail
	for _, m := range ms {
		if m.To == addr {
			out = append(out, m)
		}
	}
	return out
}

// TestReportMatched: a post reported from a closed group, whose text does
// not name the school, is matched as one about the school it was reported
// for: the threat rule fires and the head and DSL get the guided alert
// with the reported link, platform and author.
func TestReportMatched(t *testing.T) {
	p, mailDir := reportPlan(t)
	ctx := context.Background()
	link := "https://www.facebook.com/groups/folkestoneparents/posts/123456"
	res, err := Report(ctx, p, ReportedPost{
		School: "990001", URL: link, Author: "A Parent", Where: "Facebook group",
		Text: "Someone in here says they will bring a knife to the school gates tomorrow",
	})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Matched || len(res.Findings) != 1 || res.Findings[0].Rule != "threat" || res.Queued != 2 || res.Delivered != 2 || res.Waiting != 0 {
		t.Fatalf("Report = %+v, want the threat rule, 2 mails delivered", res)
	}
	mails := readMails(t, mailDir)
	for _, addr := range []string{"head@stmarys.example.org", "dsl@stmarys.example.org"} {
		ms := mailsTo(mails, addr)
		if len(ms) != 1 {
			t.Fatalf("%s got %d mails, want 1", addr, len(ms))
		}
		m := ms[0]
		for _, want := range []string{link, "Facebook group (reported by hand)", "A Parent", "Threats, abuse or harassment", "Before you respond", "knife"} {
			if !strings.Contains(m.Text, want) {
				t.Errorf("the mail to %s lacks %q:\n%s", addr, want, m.Text)
			}
		}
		if !strings.Contains(m.Subject, "CRITICAL") {
			t.Errorf("subject %q", m.Subject)
		}
	}
	if len(mails) != 2 {
		t.Errorf("%d mails, want 2", len(mails))
	}

	// The same report again is recorded already: nothing more is sent.
	res, err = Report(ctx, p, ReportedPost{School: "990001", URL: link, Text: "Someone in here says they will bring a knife to the school gates tomorrow"})
	if err != nil || !res.Duplicate || res.Queued != 0 {
		t.Fatalf("a repeated report = %+v, %v; want a duplicate, nothing queued", res, err)
	}
	if n := len(readMails(t, mailDir)); n != 2 {
		t.Errorf("after a repeated report there are %d mails, want 2", n)
	}
}

// TestReportUnmatched: a post that matches no rule still reaches the head
// alone, as a reported post with the first-steps guidance; with -category
// it goes as that category's rule would send it.
func TestReportUnmatched(t *testing.T) {
	p, mailDir := reportPlan(t)
	ctx := context.Background()
	// The model's reading is a finding too: without it, nothing matches.
	p.detect = newDetector(p.Matcher, nil, nil)
	res, err := Report(ctx, p, ReportedPost{School: "990002", Where: "Nextdoor", Text: "Has anyone else noticed the new uniform supplier?"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Matched || len(res.Findings) != 1 || res.Findings[0].Rule != ReportedPostRule || res.Findings[0].Guidance != "first-steps" || res.Delivered != 1 {
		t.Fatalf("Report = %+v, want one reported-post finding delivered", res)
	}
	mails := readMails(t, mailDir)
	if len(mails) != 1 || mails[0].To != "principal@harbourside.example.org" {
		t.Fatalf("mails = %+v, want one to the head", mails)
	}
	for _, want := range []string{"Before you respond", "Nextdoor (reported by hand)", "uniform supplier", "Reported post about Harbourside Academy"} {
		if !strings.Contains(mails[0].Text, want) {
			t.Errorf("the mail lacks %q:\n%s", want, mails[0].Text)
		}
	}

	res, err = Report(ctx, p, ReportedPost{School: "990002", Category: "complaint", Text: "Has anyone seen the plans for the new car park?"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Matched || len(res.Findings) != 1 || res.Findings[0].Rule != "complaint" || res.Findings[0].Guidance != "parental-complaints" {
		t.Fatalf("Report -category complaint = %+v, want the complaint rule", res)
	}
	var found bool
	for _, m := range mailsTo(readMails(t, mailDir), "principal@harbourside.example.org") {
		if strings.Contains(m.Text, "new car park") {
			found = strings.Contains(m.Text, "A parent or carer complains online")
		}
	}
	if !found {
		t.Error("the -category complaint report did not reach the head with the complaints guidance")
	}

	for _, bad := range []ReportedPost{
		{School: "nope", Text: "x"},
		{School: "990002", Text: "  "},
		{School: "990002", Text: "x", URL: "javascript:alert(1)"},
		{School: "990002", Text: "x", Category: "gossip"},
	} {
		if _, err := Report(ctx, p, bad); err == nil {
			t.Errorf("Report(%+v) accepted", bad)
		}
	}
}

// TestReportBesideDaemon: when the daemon holds the store, the report is
// recorded with its mail pending, for the daemon to send.
func TestReportBesideDaemon(t *testing.T) {
	p, mailDir := reportPlan(t)
	path := p.Config.Resolve(p.Config.Store.Path)
	lock, err := store.Lock(path)
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Release()
	res, err := Report(context.Background(), p, ReportedPost{School: "990001", Text: "They will bring a knife tomorrow"})
	if err != nil || !res.Handed || res.Queued != 0 {
		t.Fatalf("Report beside a daemon = %+v, %v; want it handed over", res, err)
	}
	if n := len(readMails(t, mailDir)); n != 0 {
		t.Errorf("%d mails written while the daemon holds the store", n)
	}
	st, err := store.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ps, err := st.ListPending(context.Background(), "immediate")
	if err != nil || len(ps) != 2 {
		t.Fatalf("pending = %d, %v; want the head's and the DSL's", len(ps), err)
	}
}
