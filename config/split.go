package config

import (
	"bytes"
	"fmt"
	"reflect"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"

	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"

	"github.com/schoolwatch/schoolwatch/yamlpos"
)

// A long list of schools (a county's, or a country's) is decoded one
// item at a time. The YAML library builds a syntax tree of the whole
// document before decoding it, many times the size of the text: `check` of
// 25,000 imported schools (a 9 MiB file) peaked at 880 MiB, for a tree
// alive only while the config loads. Parsed item by item (on every CPU),
// only a few items' trees are alive at a time, and it peaks at 160 MiB.
// Each item is decoded and checked as it would be in the whole document;
// the lines of its keys are not kept (half a million of them), but found
// again by parsing the item when a problem there is reported.
//
// Only the plain layout is split: a top-level key with nothing after it
// on its line, then a block sequence ("  - id: ..."), in a file without
// document markers or directives. Anything the split cannot read as it
// stands (an alias of an anchor in another item, a quoted string running
// over an item's first line) fails to parse in pieces, and the document
// is then parsed whole, with the whole-document messages.

// splitMinItems is the length from which a list is decoded item by item;
// shorter ones are not worth it. Tests lower it to compare both ways.
var splitMinItems = 256

var splitKeyRE = regexp.MustCompile(`^([A-Za-z_][A-Za-z0-9_]*)[ \t]*:[ \t]*(#.*)?$`)

// seqBlock is a top-level key whose value is a block sequence.
type seqBlock struct {
	key     string
	keyLine int      // 0-based
	items   [][2]int // each item's lines [start, end), 0-based
	end     int      // the first line after the block
}

// findBlocks returns the top-level block sequences under keys that have at
// least minItems items, or nil when the layout is not the plain one. lines
// are the document's lines, each with its newline.
func findBlocks(lines [][]byte, keys map[string]bool, minItems int) []seqBlock {
	var out []seqBlock
	seen := map[string]bool{}
	for i := 0; i < len(lines); {
		l := bytes.TrimRight(lines[i], "\r\n")
		if bytes.HasPrefix(l, []byte("---")) || bytes.HasPrefix(l, []byte("...")) || bytes.HasPrefix(l, []byte("%")) {
			return nil
		}
		if len(l) == 0 || l[0] == ' ' || l[0] == '#' {
			i++
			continue
		}
		m := splitKeyRE.FindSubmatch(l)
		if m == nil {
			i++
			continue
		}
		key := string(m[1])
		if seen[key] {
			return nil // a duplicate key: the whole parse reports it
		}
		seen[key] = true
		b, ok := block(lines, i)
		if !ok {
			return nil
		}
		if keys[key] && len(b.items) >= minItems {
			b.key = key
			out = append(out, b)
		}
		i = b.end
	}
	return out
}

// block reads the value under the key on line k: a block sequence's items,
// up to the next top-level line. A value that is not a block sequence has
// no items and ends after the key's line (the lines under it are indented,
// and findBlocks passes over them). It returns false for a layout it cannot
// be sure of.
func block(lines [][]byte, k int) (seqBlock, bool) {
	b := seqBlock{keyLine: k, end: k + 1}
	indent := -1
	for i := k + 1; i < len(lines); i++ {
		l := bytes.TrimRight(lines[i], "\r\n")
		t := bytes.TrimLeft(l, " ")
		if len(t) == 0 || t[0] == '#' {
			continue // blank or comment: part of the item before it
		}
		n := len(l) - len(t)
		dash := t[0] == '-' && (len(t) == 1 || t[1] == ' ')
		if indent < 0 {
			if !dash {
				return b, true // not a block sequence
			}
			indent = n
		}
		switch {
		case n == indent && dash:
			if len(b.items) > 0 {
				b.items[len(b.items)-1][1] = i
			}
			b.items = append(b.items, [2]int{i, i + 1})
		case n > indent:
		case n == 0:
			b.end = i
			b.items[len(b.items)-1][1] = i
			return b, true
		default:
			return b, false
		}
	}
	b.end = len(lines)
	if len(b.items) > 0 {
		b.items[len(b.items)-1][1] = len(lines)
	}
	return b, true
}

// decodeSplit decodes lines, a document's, into v, a pointer to a struct
// of type top, as decode of the whole document would, parsing each item of
// the blocks on its own: it records the lines of the keys outside the
// blocks, and the line ranges of the blocks' items, in pos, and reports
// unknown keys through errorf. It returns false, having decoded nothing
// that matters, when some piece does not parse or decode on its own; the
// caller then parses the whole document.
func decodeSplit(lines [][]byte, blocks []seqBlock, v any, top reflect.Type, pos *positions, errorf func(field, format string, args ...any) yamlpos.Error) (yamlpos.Errors, bool) {
	// The rest of the document, with the blocks' lines left blank so that
	// every line keeps its number.
	var rest bytes.Buffer
	inBlock := make([]bool, len(lines))
	for _, b := range blocks {
		for i := b.keyLine; i < b.end; i++ {
			inBlock[i] = true
		}
	}
	for i, l := range lines {
		if inBlock[i] {
			rest.WriteByte('\n')
		} else {
			rest.Write(l)
		}
	}
	var errs yamlpos.Errors
	file, err := parser.ParseBytes(rest.Bytes(), 0)
	if err != nil || len(file.Docs) > 1 {
		return nil, false
	}
	if len(file.Docs) == 1 && file.Docs[0].Body != nil {
		root := file.Docs[0].Body
		switch yamlpos.Unwrap(root).(type) {
		case *ast.MappingNode, *ast.MappingValueNode:
		default:
			return nil, false
		}
		errs = locate(root, top, pos.Lines, errorf)
		if decode(root, v) != nil {
			return nil, false
		}
	}
	pos.lines, pos.items = lines, map[string][][2]int{}
	sv := reflect.ValueOf(v).Elem()
	for _, b := range blocks {
		f, ok := fieldByTag(top, b.key)
		if !ok || f.Type.Kind() != reflect.Slice {
			return nil, false
		}
		pos.Lines[b.key] = b.keyLine + 1
		pos.items[b.key] = b.items
		list, ierrs, ok := decodeItems(lines, b, f.Type)
		if !ok {
			return nil, false
		}
		for _, e := range ierrs {
			errs = append(errs, errorf(e.Field, "%s", e.Msg))
		}
		sv.FieldByIndex(f.Index).Set(list)
	}
	return errs, true
}

// decodeItems decodes the items of b into a slice of sliceType, on every
// CPU (the items are independent, and a county's take seconds on one), and
// returns their unknown keys, in order, named but not yet located.
func decodeItems(lines [][]byte, b seqBlock, sliceType reflect.Type) (reflect.Value, yamlpos.Errors, bool) {
	type result struct {
		v    reflect.Value
		errs yamlpos.Errors
		ok   bool
	}
	results := make([]result, len(b.items))
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), len(b.items)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := range next {
				it := b.items[k]
				r := &results[k]
				r.v, r.errs, r.ok = decodeItem(bytes.Join(lines[it[0]:it[1]], nil), b.key+"["+strconv.Itoa(k)+"]", sliceType)
			}
		}()
	}
	for k := range b.items {
		next <- k
	}
	close(next)
	wg.Wait()
	list := reflect.MakeSlice(sliceType, len(b.items), len(b.items))
	var errs yamlpos.Errors
	for k, r := range results {
		if !r.ok {
			return reflect.Value{}, nil, false
		}
		list.Index(k).Set(r.v)
		errs = append(errs, r.errs...)
	}
	return list, errs, true
}

// decodeItem decodes one item, the text of a one-item block sequence, and
// returns it with its unknown keys, named under path and not yet located.
func decodeItem(item []byte, path string, sliceType reflect.Type) (reflect.Value, yamlpos.Errors, bool) {
	var none reflect.Value
	file, err := parser.ParseBytes(item, 0)
	if err != nil || len(file.Docs) != 1 || file.Docs[0].Body == nil {
		return none, nil, false
	}
	root := file.Docs[0].Body
	if seq, ok := yamlpos.Unwrap(root).(*ast.SequenceNode); !ok || len(seq.Values) != 1 {
		return none, nil, false
	}
	errs := locate(root, sliceType, yamlpos.Lines{}, func(field, format string, args ...any) yamlpos.Error {
		return yamlpos.Error{Field: path + strings.TrimPrefix(field, "[0]"), Msg: fmt.Sprintf(format, args...)}
	})
	one := reflect.New(sliceType)
	if decode(root, one.Interface()) != nil || one.Elem().Len() != 1 {
		return none, nil, false
	}
	return one.Elem().Index(0), errs, true
}

// positions are the lines of a document's keys. Those inside the items of
// a split list are not recorded as the list is decoded, which for 25,000
// schools would be half a million map entries held as long as the config:
// the item's line range is, and a key's line is found, by parsing its item
// again, only when a problem is reported there. A loaded config forgets
// the ranges (its problems have all been reported).
type positions struct {
	yamlpos.Lines
	lines [][]byte            // the document's, while it loads
	items map[string][][2]int // split list key → each item's lines [start, end), 0-based
	top   map[string]reflect.Type
	done  map[string]bool // item paths already parsed into Lines
}

func newPositions() *positions { return &positions{Lines: yamlpos.Lines{}} }

// Line is yamlpos.Lines.Line, reading the lines of a split item first.
func (p *positions) Line(path string) int {
	if p == nil {
		return 0
	}
	p.fill(path)
	return p.Lines.Line(path)
}

// has reports whether path is a key of the document.
func (p *positions) has(path string) bool {
	if p == nil {
		return false
	}
	p.fill(path)
	_, ok := p.Lines[path]
	return ok
}

// fill records the lines of the split item path is in, if it is in one.
func (p *positions) fill(path string) {
	if p.items == nil {
		return
	}
	key, rest, ok := strings.Cut(path, "[")
	if !ok || p.items[key] == nil {
		return
	}
	j := strings.IndexByte(rest, ']')
	k, err := strconv.Atoi(rest[:max(j, 0)])
	spans := p.items[key]
	if j < 0 || err != nil || k < 0 || k >= len(spans) {
		return
	}
	item := key + "[" + strconv.Itoa(k) + "]"
	if p.done[item] {
		return
	}
	if p.done == nil {
		p.done = map[string]bool{}
	}
	p.done[item] = true
	sp := spans[k]
	file, err := parser.ParseBytes(bytes.Join(p.lines[sp[0]:sp[1]], nil), 0)
	if err != nil || len(file.Docs) != 1 || file.Docs[0].Body == nil {
		return
	}
	yamlpos.Walk(file.Docs[0].Body, func(k yamlpos.Key) bool {
		p.Lines[item+strings.TrimPrefix(k.Path, "[0]")] = k.Line + sp[0]
		return true
	})
}

// forget drops what only loading needs.
func (p *positions) forget() {
	if p != nil {
		p.lines, p.items, p.done = nil, nil, nil
	}
}
