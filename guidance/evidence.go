package guidance

// EvidenceHint is the one line an alert shows beside the link to a post,
// for a finding of the given rule category: what to do before opening it.
//
// For a post that may show a sexual image of a child the answer is not to
// capture it at all. Viewing, copying, screenshotting or forwarding such an
// image is itself illegal (UKCIS, "Sharing nudes and semi-nudes"), so the
// hint says not to, before anything about evidence. Categories where a post
// about a child may turn out to be such an image get the warning first and
// the usual advice after it.
func EvidenceHint(category string) string {
	switch category {
	case "sexual-images":
		return "Do not open, view, screenshot, copy or forward it: it may show a child. " +
			"Note the address only, and tell your DSL now."
	case "privacy", "safeguarding", "pupil-bullying", "allegation":
		return "If it may show a child nude or sexual, do not open, screenshot or forward it: " +
			"note the address and tell your DSL now. Otherwise capture it first: " +
			"a screenshot showing the date, time and address."
	}
	return "Capture it before it disappears: a screenshot showing the date, time and address."
}
