package main

import (
	"context"
	"encoding/csv"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/schoolwatch/schoolwatch/classify"
	"github.com/schoolwatch/schoolwatch/store"
)

// TestAlertsAndFeedbackExport: after the demo's alerts are mailed and a
// leader marks one "not relevant" and acknowledges another, `alerts
// export` prints the incident log with those statuses, -since leaves out
// what is older, and `feedback export` prints corpus lines the training
// reader accepts: the not-relevant post with no category, the
// acknowledged one with its categories.
func TestAlertsAndFeedbackExport(t *testing.T) {
	dir := t.TempDir()
	feeds := serveDemoFeeds(t)
	cfg := demoConfig(t, dir, feeds.URL, "")
	b, _ := os.ReadFile(cfg)
	if err := os.WriteFile(cfg, []byte(strings.Replace(string(b), "listen: 127.0.0.1:0", "listen: 127.0.0.1:0\n  public_url: https://sw.example.org", 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, stderr, code := run(t, "once", "--send", "-config", cfg); code != 0 {
		t.Fatalf("once --send: %d %s", code, stderr)
	}
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(dir, "var/schoolwatch.db"))
	if err != nil {
		t.Fatal(err)
	}
	in, err := st.Incidents(ctx, time.Time{}, 0)
	if err != nil {
		t.Fatal(err)
	}
	var ack, irrelevant *store.Incident
	for i := range in {
		switch {
		case ack == nil && in[i].Severity == "critical":
			ack = &in[i]
		case irrelevant == nil && in[i].Severity != "critical" && in[i].Category != "mention":
			irrelevant = &in[i]
		}
	}
	if ack == nil || irrelevant == nil {
		t.Fatalf("the demo's incidents lack a critical and another alert: %+v", in)
	}
	now := time.Now()
	if err := st.ActOnIncident(ctx, now, ack.SchoolID, ack.ItemKey, ack.Recipient, store.StatusAcknowledged, "rang the police", time.Time{}); err != nil {
		t.Fatal(err)
	}
	if err := st.ActOnIncident(ctx, now, irrelevant.SchoolID, irrelevant.ItemKey, irrelevant.Recipient, store.StatusNotRelevant, "", time.Time{}); err != nil {
		t.Fatal(err)
	}
	st.Close()

	out, stderr, code := run(t, "alerts", "export", "-config", cfg)
	if code != 0 {
		t.Fatalf("alerts export: %d %s", code, stderr)
	}
	recs, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	col := map[string]int{}
	for i, h := range recs[0] {
		col[h] = i
	}
	for _, h := range []string{"time", "school", "category", "severity", "post link", "status", "acknowledged_by", "acknowledged_at", "note"} {
		if _, ok := col[h]; !ok {
			t.Fatalf("alerts export header %v lacks %q", recs[0], h)
		}
	}
	got := map[string]string{}
	for _, r := range recs[1:] {
		got[r[col["post link"]]] = r[col["status"]]
		if r[col["post link"]] == ack.Link && (r[col["acknowledged_by"]] != ack.Recipient || r[col["note"]] != "rang the police") {
			t.Errorf("acknowledged row = %v", r)
		}
	}
	if got[ack.Link] != "acknowledged" || got[irrelevant.Link] != "not relevant" {
		t.Errorf("statuses = %v; want %s acknowledged and %s not relevant", got, ack.Link, irrelevant.Link)
	}
	out, _, code = run(t, "alerts", "export", "-config", cfg, "-since", now.Add(48*time.Hour).Format("2006-01-02"))
	if code != 0 || strings.Count(strings.TrimSpace(out), "\n") != 0 {
		t.Errorf("alerts export -since the day after tomorrow = %d %q, want the header alone", code, out)
	}
	if _, _, code := run(t, "alerts", "export", "-config", cfg, "-since", "yesterday"); code != 2 {
		t.Errorf("a bad -since exits %d, want 2", code)
	}

	out, stderr, code = run(t, "feedback", "export", "-config", cfg)
	if code != 0 {
		t.Fatalf("feedback export: %d %s", code, stderr)
	}
	ex, err := classify.ReadCorpus(strings.NewReader(out), "feedback", nil)
	if err != nil {
		t.Fatalf("feedback export is not a valid corpus: %v\n%s", err, out)
	}
	if len(ex) != 2 {
		t.Fatalf("feedback examples = %d, want 2:\n%s", len(ex), out)
	}
	var harmless, positive int
	for _, e := range ex {
		if e.Harmless() {
			harmless++
		} else if e.Has("threat") || len(e.Categories) > 0 {
			positive++
		}
	}
	if harmless != 1 || positive != 1 {
		t.Errorf("feedback: %d harmless and %d positive examples, want 1 and 1:\n%s", harmless, positive, out)
	}
}
