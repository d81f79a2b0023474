package watchers

import (
	"strings"
	"time"
)

// ReportFeedID is the pseudo-feed of the posts people report by hand
// (schoolwatch report): what someone saw where no feed reaches.
const ReportFeedID = "report"

// Reported is a post someone saw and reports for one school.
type Reported struct {
	SchoolID, SchoolName string
	// Place is the school's town (or another of its context terms): a
	// name that is ambiguous alone counts as a mention only near it.
	Place  string
	Text   string
	URL    string // "" if none
	Author string
	// Where names the platform ("Facebook group", "WhatsApp"); "" if not said.
	Where string
}

// ReportedItem is the Item for a reported post, normalised like a feed's:
// text cleaned of controls and bidi characters and capped, the link
// canonical. Its title names the school it was reported for, so the post
// is matched as one that mentions the school (whoever reported it knew
// which school it was about, even if the text does not say). Its identity
// is the school, link and text: the same report made twice is one item, and
// a post a feed already saw is still reported (and mailed) on its own.
func ReportedItem(r Reported, now time.Time) Item {
	it := Item{
		FeedID:    ReportFeedID,
		FeedName:  "reported by hand",
		Title:     truncate(collapse(clean(reportTitle(r))), MaxTitleLen),
		Text:      truncate(tidy(clean(r.Text)), MaxTextLen),
		Author:    truncate(collapse(clean(r.Author)), 200),
		Published: now,
	}
	if w := truncate(collapse(clean(r.Where)), 200); w != "" {
		it.FeedName = w + " (reported by hand)"
	}
	if u := strings.TrimSpace(r.URL); u != "" {
		it.Link = canonicalLink(u)
	}
	it.Fingerprint = hashKey(it.Title, it.Text)
	it.Key = "r:" + r.SchoolID + ":" + hashKey(it.Link, it.Text)
	return it
}

func reportTitle(r Reported) string {
	t := "Reported post about " + r.SchoolName
	if r.Place != "" && !strings.Contains(strings.ToLower(r.SchoolName), strings.ToLower(r.Place)) {
		t += ", " + r.Place
	}
	return t
}
