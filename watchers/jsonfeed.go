package watchers

import (
	"bytes"
	"encoding/json"
	"errors"
	"slices"
	"unicode/utf8"

	"github.com/mmcdole/gofeed"
	jsonfeed "github.com/mmcdole/gofeed/json"
)

var jsonTranslator = &gofeed.DefaultJSONTranslator{}

// parseJSON parses a JSON Feed, at most maxItems of its items.
//
// A well-formed feed with few enough objects goes to gofeed in one piece.
// Otherwise, or when that fails, the document is read as a stream: items
// past the cap are skipped without being kept, an item that is not an
// object is dropped, and a field of the wrong type ("url": 5, "authors":
// "bob") is dropped from its item, so one bad field costs that field, not
// the document. Only a document that is not JSON at all fails.
func parseJSON(doc []byte, maxItems int, rep *docReport) (*gofeed.Feed, error) {
	if !utf8.Valid(doc) {
		// encoding/json replaces them with U+FFFD itself; count it.
		rep.repaired(RepairInvalidUTF8, 1)
	}
	if maxItems <= 0 || bytes.Count(doc, []byte{'{'}) <= maxItems+1 {
		var jf jsonfeed.Feed
		if err := json.Unmarshal(doc, &jf); err == nil && !slices.Contains(jf.Items, nil) {
			return jsonTranslator.Translate(&jf)
		}
	}
	jf, err := decodeJSONFeed(doc, maxItems, rep)
	if err != nil {
		return nil, err
	}
	return jsonTranslator.Translate(jf)
}

// decodeJSONFeed is the streaming, forgiving decoder parseJSON falls back to.
func decodeJSONFeed(doc []byte, maxItems int, rep *docReport) (*jsonfeed.Feed, error) {
	dec := json.NewDecoder(bytes.NewReader(doc))
	if tok, err := dec.Token(); err != nil {
		return nil, err
	} else if tok != json.Delim('{') {
		return nil, errors.New("JSON Feed: the document is not an object")
	}
	top := map[string]json.RawMessage{}
	var items []*jsonfeed.Item
	entries := 0
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		key, _ := tok.(string)
		if key != "items" {
			var v json.RawMessage
			if err := dec.Decode(&v); err != nil {
				return nil, err
			}
			top[key] = v
			continue
		}
		tok, err = dec.Token()
		if err != nil {
			return nil, err
		}
		if tok != json.Delim('[') {
			// Not an array: no items. Skip whatever it is.
			rep.repaired(RepairJSONField, 1)
			if d, ok := tok.(json.Delim); ok {
				if err := skipJSON(dec, d); err != nil {
					return nil, err
				}
			}
			continue
		}
		for dec.More() {
			entries++
			if maxItems > 0 && len(items) >= maxItems {
				var skip struct{}
				var ute *json.UnmarshalTypeError
				if err := dec.Decode(&skip); err != nil && !errors.As(err, &ute) {
					return nil, err
				}
				continue
			}
			var raw json.RawMessage
			if err := dec.Decode(&raw); err != nil {
				return nil, err
			}
			it, dropped := decodeJSONItem(raw)
			if it == nil {
				rep.repaired(RepairJSONItem, 1)
				continue
			}
			rep.repaired(RepairJSONField, dropped)
			items = append(items, it)
		}
		if _, err := dec.Token(); err != nil { // ]
			return nil, err
		}
	}
	if _, err := dec.Token(); err != nil { // }
		return nil, err
	}
	var jf jsonfeed.Feed
	dropped, _ := decodeLeniently(top, &jf) // a feed-level field lost costs nothing
	rep.repaired(RepairJSONField, dropped)
	jf.Items = items
	if maxItems > 0 && entries > maxItems {
		rep.Entries, rep.Truncated = entries, true
	}
	return &jf, nil
}

// decodeJSONItem decodes one item, dropping the fields that do not decode;
// nil if the item is not an object.
func decodeJSONItem(raw json.RawMessage) (*jsonfeed.Item, int) {
	if raw = bytes.TrimSpace(raw); len(raw) == 0 || raw[0] != '{' {
		return nil, 0
	}
	var it jsonfeed.Item
	if err := json.Unmarshal(raw, &it); err == nil {
		return &it, 0
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil || fields == nil {
		return nil, 0
	}
	it = jsonfeed.Item{}
	dropped, ok := decodeLeniently(fields, &it)
	if !ok {
		return nil, 0
	}
	return &it, dropped
}

// decodeLeniently decodes fields into v, leaving out each field that does
// not decode on its own, and returns how many it left out; ok is false if
// what is left still does not decode.
func decodeLeniently[T any](fields map[string]json.RawMessage, v *T) (dropped int, ok bool) {
	if b, err := json.Marshal(fields); err == nil && json.Unmarshal(b, v) == nil {
		return 0, true
	}
	for k, f := range fields {
		one, err := json.Marshal(map[string]json.RawMessage{k: f})
		var probe T
		if err != nil || json.Unmarshal(one, &probe) != nil {
			delete(fields, k)
			dropped++
		}
	}
	var zero T
	*v = zero
	b, err := json.Marshal(fields)
	if err == nil {
		err = json.Unmarshal(b, v)
	}
	return dropped, err == nil
}

// skipJSON consumes the rest of the array or object opened by d.
func skipJSON(dec *json.Decoder, d json.Delim) error {
	if d != '{' && d != '[' {
		return nil
	}
	for depth := 1; depth > 0; {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		switch tok {
		case json.Delim('{'), json.Delim('['):
			depth++
		case json.Delim('}'), json.Delim(']'):
			depth--
		}
	}
	return nil
}
