package alerts

import (
	"fmt"
	"strings"
	"time"

	"github.com/schoolwatch/schoolwatch/store"
)

// EvidenceRecord is the plain-text evidence record of one post: what an
// alert mail attaches and `schoolwatch evidence KEY` prints. Its fields
// are one line each, cleaned like every displayed feed field; the content
// follows, exactly as fetched, between two marker lines, after a line
// giving its length in bytes and its SHA-256, so that a copy can be
// checked whatever the content holds (a marker line included).
func EvidenceRecord(e store.Evidence, loc *time.Location) string {
	return evidenceRecord(e, loc, false)
}

// evidenceRecord is EvidenceRecord; partial marks a record made from an
// alert's own copy of the post (the title and the excerpt) because the
// store kept none.
func evidenceRecord(e store.Evidence, loc *time.Location, partial bool) string {
	if loc == nil {
		loc = time.UTC
	}
	content := e.Content()
	sum := e.SHA256
	if sum == "" {
		sum = store.ContentSHA256(content)
	}
	var b strings.Builder
	line := func(label, v string) {
		if v = SanitizeText(v, 0); v == "" {
			v = "not recorded"
		}
		fmt.Fprintf(&b, "%-15s %s\n", label+":", v)
	}
	stamp := func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.In(loc).Format("Mon 2 Jan 2006 15:04:05 MST") + " (" + t.UTC().Format(time.RFC3339Nano) + ")"
	}
	b.WriteString("schoolwatch evidence record\n")
	b.WriteString("===========================\n\n")
	if partial {
		b.WriteString("The full text of this post was not kept (the finding was queued before\n" +
			"this version of schoolwatch kept evidence). The content below is the\n" +
			"post's title and the excerpt quoted in the alert.\n\n")
	} else {
		b.WriteString("What schoolwatch fetched of this post, kept so that a screenshot taken\n" +
			"later can be matched to what was seen. The content below is the post's\n" +
			"title and text as schoolwatch read them (HTML removed), byte for byte.\n\n")
	}
	line("Item key", e.ItemKey)
	feed := e.FeedID
	if e.FeedName != "" && e.FeedName != e.FeedID {
		feed = e.FeedName + " (" + e.FeedID + ")"
	}
	line("Feed", feed)
	line("Link", e.Link)
	line("Author", e.Author)
	line("Title", e.Title)
	if e.Dated {
		line("Published", stamp(e.Published))
	} else {
		line("Published", "not given by the post")
	}
	line("First seen", stamp(e.FirstSeen))
	line("Response Date", e.ResponseDate)
	line("Response ETag", e.ResponseETag)
	line("SHA-256", sum)
	fmt.Fprintf(&b, "\nThe SHA-256 is of the %d bytes (UTF-8) between the next line and the\nline \"----- end of content -----\" that follows them.\n", len(content))
	b.WriteString("----- content -----\n")
	b.WriteString(content)
	b.WriteString("\n----- end of content -----\n")
	return b.String()
}

// evidenceFile is the attachment name of the record of content with the
// given hex SHA-256.
func evidenceFile(sum string) string {
	return "evidence-" + sum[:min(12, len(sum))] + ".txt"
}
