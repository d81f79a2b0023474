// Package watchers polls the configured feeds on their schedules and turns
// what they publish into normalised Items: fetch (conditional GET, size and
// time caps, backoff, no redirect into the local network), parse (RSS, Atom
// and JSON Feed through gofeed, at most max_items entries of a document,
// one bad byte or field repaired rather than the document rejected),
// normalise (plain text without bidi or control characters, stable
// identity, published time) and hand the items to a Sink. Per-feed state
// (ETag, Last-Modified, the last body's hash, failures) lives in the store.
package watchers
