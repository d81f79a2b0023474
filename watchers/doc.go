// Package watchers polls the configured feeds on their schedules and turns
// what they publish into normalised Items: fetch (conditional GET, size and
// time caps, backoff), parse (RSS, Atom and JSON Feed through gofeed),
// normalise (plain text, stable identity, published time) and hand the items
// to a Sink. Per-feed state (ETag, Last-Modified, failures) lives in the store.
package watchers
