package rules

import (
	"slices"
	"strings"
)

// The values a rule carries, each with its one list. config validates
// against these lists, guidance sections name categories from them, and
// TestVocabulary and guidance's tests tie them to each other and to the
// built-in pack.

// Category is what a rule is about. It picks the guidance section a finding
// carries when the rule names none.
type Category string

// Categories are every rule category, in the order config lists them.
var Categories = []Category{
	"threat", "allegation", "safeguarding", "complaint", "defamation", "privacy", "media",
	"impersonation", "staff-abuse", "sexual-images", "hate-abuse", "bomb-threats", "doxxing",
	"self-harm-and-suicide", "pupil-bullying", "scams", "misinformation", OtherCategory, Mention,
}

// OtherCategory is the category of a rule that names none.
const OtherCategory Category = "other"

// Mention is the category of the finding a post raises for a school it
// names when no rule fires for that school, so nothing said about a school
// goes unseen. Its findings come from the rule MentionRule, with severity
// Info, and only ever travel in a digest.
const Mention Category = "mention"

// MentionRule is the id of the built-in rule behind Mention findings.
const MentionRule = "mention"

// PossiblyPrefix starts the rule id of a finding of the learned model
// (package classify): "possibly-threat" is the model's reading that a post
// the rules missed may be a threat.
const PossiblyPrefix = "possibly-"

// Severity is how urgently a finding reaches a leader.
type Severity string

// The severities, most severe first.
const (
	Critical Severity = "critical" // never held back for a digest
	High     Severity = "high"
	Normal   Severity = "normal"
	Low      Severity = "low"
	Info     Severity = "info" // a mention: never alerts on its own
)

// Severities are every severity, most severe first: a severity's index is
// its Rank.
var Severities = []Severity{Critical, High, Normal, Low, Info}

// Rank orders severities, 0 being the most severe; an unknown severity
// ranks after every known one.
func (s Severity) Rank() int {
	if i := slices.Index(Severities, s); i >= 0 {
		return i
	}
	return len(Severities)
}

// Delivery is how a finding reaches a leader: at once, in the daily digest
// or in the weekly one.
type Delivery string

// The deliveries.
const (
	Immediate Delivery = "immediate"
	Digest    Delivery = "digest"
	Weekly    Delivery = "weekly" // the weekly digest, at mail.heartbeat_schedule
)

// Deliveries are every delivery.
var Deliveries = []Delivery{Immediate, Digest, Weekly}

// Names returns the values of a list as strings, for messages and for
// callers that still keep them as strings.
func Names[T ~string](list []T) []string {
	out := make([]string, len(list))
	for i, v := range list {
		out[i] = string(v)
	}
	return out
}

// Join lists the values of a list for a message: "a, b, c".
func Join[T ~string](list []T) string { return strings.Join(Names(list), ", ") }
