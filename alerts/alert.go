package alerts

import (
	"encoding/json"
	"time"

	"github.com/schoolwatch/schoolwatch/rules"
)

// Alert is what a mail needs to know about one rule firing on one item for
// one school: a rules.Finding with the item and the names a leader reads.
// It is stored as a pending row's payload between routing and rendering,
// so it carries copies, not references; its JSON is that payload.
type Alert struct {
	// The item, as its feed gave it.
	ItemKey   string    `json:"item"`
	FeedID    string    `json:"feed"`
	FeedName  string    `json:"feed_name"`
	Title     string    `json:"title"`
	Link      string    `json:"link"`
	Author    string    `json:"author,omitempty"`
	Published time.Time `json:"published"`
	Dated     bool      `json:"dated"`
	// The school it mentions.
	SchoolID   string `json:"school"`
	SchoolName string `json:"school_name"`
	// The rule that fired, with what it carries.
	RuleID   string         `json:"rule"`
	Category rules.Category `json:"category"`
	Severity rules.Severity `json:"severity"`
	Guidance string         `json:"guidance"` // the guidance section's ID
	// The evidence: the excerpt with its hits, and the terms that
	// matched, for "why".
	Excerpt []rules.Fragment `json:"excerpt"`
	Matched []string         `json:"matched"`
	// Names and Says are the words of the post, as it wrote them, that
	// named the school and that the rule looked for: the mail's "why" in
	// plain words. Payloads written before they existed have neither.
	Names []string `json:"names,omitempty"`
	Says  []string `json:"says,omitempty"`
}

func (a *Alert) encode() []byte {
	b, _ := json.Marshal(a) // plain data: cannot fail
	return b
}

func decodeAlert(b []byte) (Alert, error) {
	var a Alert
	err := json.Unmarshal(b, &a)
	return a, err
}
