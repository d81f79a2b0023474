package watchers

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/mmcdole/gofeed"
	"github.com/mmcdole/gofeed/rss"
)

// Repair kinds: what was wrong with a document that was parsed anyway.
// They are metric label values and appear in the log.
const (
	RepairInvalidUTF8 = "invalid_utf8" // bytes that are not UTF-8 in a UTF-8 document, replaced by U+FFFD
	RepairControl     = "control_char" // characters XML forbids (most C0 controls), dropped
	RepairCharRef     = "char_ref"     // character references to them (&#27;), dropped
	RepairJSONField   = "json_field"   // JSON Feed fields of the wrong type, dropped
	RepairJSONItem    = "json_item"    // JSON Feed items that are not objects, dropped
)

// RepairKinds lists every repair kind.
var RepairKinds = []string{RepairInvalidUTF8, RepairControl, RepairCharRef, RepairJSONField, RepairJSONItem}

// docReport is what parsing made of a document besides its items.
type docReport struct {
	// Entries is how many entries the document holds, when they were
	// counted (a document that may hold more than the cap); otherwise 0.
	Entries int
	// Truncated reports that entries past the cap were not read.
	Truncated bool
	// Repairs counts each kind of repair made to the document.
	Repairs map[string]int
}

func (r *docReport) repaired(kind string, n int) {
	if n <= 0 {
		return
	}
	if r.Repairs == nil {
		r.Repairs = map[string]int{}
	}
	r.Repairs[kind] += n
}

// repairs describes the repairs for the log, e.g. "invalid_utf8=1 char_ref=2".
func (r *docReport) repairs() string {
	kinds := make([]string, 0, len(r.Repairs))
	for k := range r.Repairs {
		kinds = append(kinds, k)
	}
	slices.Sort(kinds)
	var b strings.Builder
	for _, k := range kinds {
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "%s=%d", k, r.Repairs[k])
	}
	return b.String()
}

// rssTranslator skips gofeed's search for an item image, which parses
// every item's HTML a second time (a quarter of the parse) for a field
// schoolwatch does not use, and keeps what gofeed drops: an item's
// <source>, the publisher an aggregator (Google News) took it from.
var rssTranslator = &sourceTranslator{gofeed.DefaultRSSTranslator{DisableContentImageScan: true}}

// customSource is the key of an item's <source> title in gofeed's Custom
// map; element names cannot start with NUL, so no feed element collides.
const customSource = "\x00source"

type sourceTranslator struct {
	gofeed.DefaultRSSTranslator
}

// Translate implements gofeed.Translator.
func (t *sourceTranslator) Translate(feed any) (*gofeed.Feed, error) {
	out, err := t.DefaultRSSTranslator.Translate(feed)
	rf, ok := feed.(*rss.Feed)
	if err != nil || !ok || len(rf.Items) != len(out.Items) {
		return out, err
	}
	for i, ri := range rf.Items {
		if ri == nil || ri.Source == nil || out.Items[i] == nil {
			continue
		}
		if title := strings.TrimSpace(ri.Source.Title); title != "" {
			it := out.Items[i]
			if it.Custom == nil {
				it.Custom = map[string]string{}
			}
			it.Custom[customSource] = title
		}
	}
	return out, nil
}

// parse sniffs the document's type (servers often send feeds as text/html
// or application/octet-stream) and parses at most maxItems of its entries.
//
// A hostile or broken document costs what it must and no more. Entries
// past the cap are cut off before gofeed sees them, so a 10 MiB document
// of a million empty entries builds a thousand items, not a million. One
// bad byte does not fail the document: invalid UTF-8 is replaced, and the
// characters XML forbids are dropped, before the XML parser sees them; a
// JSON Feed field of the wrong type costs that field. What was done is in
// the report.
func parse(resp *Response, maxItems int) (*gofeed.Feed, docReport, error) {
	var rep docReport
	body := resp.Body
	var parsed *gofeed.Feed
	var err error
	if firstByte(body) == '{' {
		parsed, err = parseJSON(body, maxItems, &rep)
	} else {
		var entries int
		if body, entries = capEntries(body, maxItems); entries > maxItems {
			rep.Entries, rep.Truncated = entries, true
		} else if entries > 0 {
			rep.Entries = entries
		}
		body = repairXML(body, &rep)
		fp := gofeed.NewParser()
		fp.RSSTranslator = rssTranslator
		parsed, err = fp.Parse(bytes.NewReader(body))
	}
	switch {
	case errors.Is(err, gofeed.ErrFeedTypeNotDetected):
		return nil, rep, &FetchError{Class: ClassNotFeed, Err: fmt.Errorf("not RSS, Atom or JSON Feed (Content-Type %q)", resp.ContentType)}
	case err != nil:
		return nil, rep, &FetchError{Class: ClassParse, Err: err}
	}
	// The cut above is on the raw bytes; gofeed's own count is the last
	// word, so no more than maxItems items ever reach the store.
	if maxItems > 0 && len(parsed.Items) > maxItems {
		rep.Entries = max(rep.Entries, len(parsed.Items))
		rep.Truncated = true
		clear(parsed.Items[maxItems:])
		parsed.Items = parsed.Items[:maxItems]
	}
	return parsed, rep, nil
}

// firstByte is the document's first byte that is not white space or part
// of a byte order mark, as gofeed's type detection sees it.
func firstByte(b []byte) byte {
	for _, c := range b {
		switch c {
		case ' ', '\r', '\n', '\t', 0xFE, 0xFF, 0x00, 0xEF, 0xBB, 0xBF:
		default:
			return c
		}
	}
	return 0
}
