package alerts

import (
	"encoding/json"
	"slices"
	"time"

	"github.com/schoolwatch/schoolwatch/config"
	"github.com/schoolwatch/schoolwatch/rules"
)

// Finding is what a mail needs to know about one rule firing on one item
// for one school. It is stored as a pending row's payload between routing
// and rendering, so it carries copies, not references.
type Finding struct {
	ItemKey    string           `json:"item"`
	FeedID     string           `json:"feed"`
	FeedName   string           `json:"feed_name"`
	Title      string           `json:"title"`
	Link       string           `json:"link"`
	Author     string           `json:"author,omitempty"`
	Published  time.Time        `json:"published"`
	Dated      bool             `json:"dated"`
	SchoolID   string           `json:"school"`
	SchoolName string           `json:"school_name"`
	RuleID     string           `json:"rule"`
	Category   string           `json:"category"`
	Severity   string           `json:"severity"`
	Guidance   string           `json:"guidance"`
	Excerpt    []rules.Fragment `json:"excerpt"`
	Matched    []string         `json:"matched"` // the terms that matched, for "why"
}

func (f *Finding) encode() []byte {
	b, _ := json.Marshal(f) // plain data: cannot fail
	return b
}

func decodeFinding(b []byte) (Finding, error) {
	var f Finding
	err := json.Unmarshal(b, &f)
	return f, err
}

// SeverityRank orders severities, 0 being the most severe.
func SeverityRank(s string) int {
	if i := slices.Index(config.Severities, s); i >= 0 {
		return i
	}
	return len(config.Severities)
}

// Critical is the severity that is never held back.
const Critical = "critical"
