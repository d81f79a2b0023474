package daemon

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/schoolwatch/schoolwatch/classify"
	"github.com/schoolwatch/schoolwatch/rules"
	"github.com/schoolwatch/schoolwatch/store"
)

// openExisting opens the plan's store, which must exist.
func openExisting(ctx context.Context, p *Plan) (*store.Store, error) {
	path := p.Config.Resolve(p.Config.Store.Path)
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("store %s does not exist yet: no poll has been recorded: %w", path, ErrNoStore)
	}
	return store.Open(ctx, path)
}

// ExportAlerts writes the incident log since since as /alerts.csv does.
func ExportAlerts(ctx context.Context, p *Plan, w io.Writer, since time.Time) error {
	st, err := openExisting(ctx, p)
	if err != nil {
		return err
	}
	defer st.Close()
	loc := p.Config.Location
	if loc == nil {
		loc = time.UTC
	}
	return WriteIncidentCSV(ctx, w, st, since, loc)
}

// FeedbackHeader starts the file feedback export writes.
const FeedbackHeader = `Labelled examples from schoolwatch's action links, in the corpus format
schools|categories|text (see rules/testdata/corpus.txt). "Not relevant"
alerts are the school's posts with no category (-); acknowledged alerts
keep the categories they were alerted for. Review them, then copy them
into rules/testdata/corpus/ and retrain: go run ./classify/cmd/train`

// feedbackText makes a post's text a valid corpus text: one line, no '|',
// at most 4000 bytes.
func feedbackText(s string) string {
	s = strings.Map(func(r rune) rune {
		switch r {
		case '|':
			return '/'
		case '\t', '\r', '\n':
			return ' '
		}
		return r
	}, s)
	s = strings.Join(strings.Fields(s), " ")
	for len(s) > 4000 {
		_, n := utf8.DecodeLastRuneInString(s)
		s = s[:len(s)-n]
	}
	return s
}

// FeedbackExamples are the labelled examples gathered from the action
// links: "not relevant" as harmless posts about the school, acknowledged
// alerts as positives of the categories they were alerted for. A post
// acted on by several recipients is one example (the latest action).
func FeedbackExamples(ctx context.Context, st *store.Store) ([]classify.Example, error) {
	in, err := st.Incidents(ctx, time.Time{}, 0)
	if err != nil {
		return nil, err
	}
	rows := incidentLog(in)
	var keys []string
	for _, r := range rows {
		keys = append(keys, r.ItemKey)
	}
	ev, err := st.EvidenceFor(ctx, keys)
	if err != nil {
		return nil, err
	}
	known := classify.Categories()
	var out []classify.Example
	seen := map[string]bool{}
	for i := len(rows) - 1; i >= 0; i-- { // oldest first
		r := rows[i]
		if r.Status != store.StatusNotRelevant && r.Status != store.StatusAcknowledged {
			continue
		}
		text := r.Title + ". " + r.Text
		if e, ok := ev[r.ItemKey]; ok && e.Text != "" {
			text = e.Title + ". " + e.Text
		}
		text = feedbackText(strings.TrimPrefix(text, ". "))
		if text == "" || seen[text] {
			continue
		}
		ex := classify.Example{Text: text}
		if r.SchoolID != "" && strings.Trim(r.SchoolID, "0123456789") == "" {
			ex.Schools = []string{r.SchoolID}
		}
		if r.Status == store.StatusAcknowledged {
			for _, c := range strings.Split(r.Findings, ",") {
				cat := rules.Category(c)
				if slices.Contains(known, cat) && !slices.Contains(ex.Categories, cat) {
					ex.Categories = append(ex.Categories, cat)
				}
			}
			if len(ex.Categories) == 0 {
				continue // a mention acknowledged teaches no category
			}
		}
		seen[text] = true
		out = append(out, ex)
	}
	return out, nil
}

// ExportFeedback writes FeedbackExamples in the corpus format.
func ExportFeedback(ctx context.Context, p *Plan, w io.Writer) (int, error) {
	st, err := openExisting(ctx, p)
	if err != nil {
		return 0, err
	}
	defer st.Close()
	ex, err := FeedbackExamples(ctx, st)
	if err != nil {
		return 0, err
	}
	return len(ex), classify.WriteCorpus(w, FeedbackHeader, ex)
}
