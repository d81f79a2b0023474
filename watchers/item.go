package watchers

import "time"

// Item is one normalised feed entry, the unit the rest of the pipeline sees.
type Item struct {
	// Key is the item's stable identity, in order of preference: its GUID
	// (scoped to the feed, since GUIDs are often bare numbers), else its
	// canonical link together with its title and text, else its title and
	// text alone.
	Key string
	// AltKeys are other identities the same story is known by: the
	// canonical link with the title and text, for an item that also has a
	// GUID. An item is new only if none of Key and AltKeys was seen before,
	// so the same article, word for word, from two feeds alerts once.
	AltKeys []string
	// Fingerprint is a hash of the title and text, the content the rules
	// match: when it changes under a known Key, the item was edited and is
	// matched again.
	Fingerprint string
	FeedID      string
	// FeedName is a human name for the source, for the mail.
	FeedName string
	Title    string
	// Text is the item's content as plain text (HTML removed, entities decoded).
	Text   string
	Link   string
	Author string
	// Published is when the item says it was published (or updated); when it
	// gives neither, the time it was first fetched.
	Published time.Time
	// Dated reports whether Published came from the feed.
	Dated bool
	// TooOld marks an item older than its feed's max_item_age: it is
	// recorded as seen but never alerts.
	TooOld bool
	// ResponseDate and ResponseETag are the Date and ETag headers of the
	// feed response that carried the item, for its evidence record.
	ResponseDate, ResponseETag string
}

// Content is the text the rules match against: the title, a blank line, the body.
func (it *Item) Content() string {
	if it.Text == "" {
		return it.Title
	}
	return it.Title + "\n\n" + it.Text
}
