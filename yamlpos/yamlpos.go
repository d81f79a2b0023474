// Package yamlpos says where things are in the YAML files schoolwatch reads
// (the config, and a guidance pack's front matter and contact list), and
// reports problems there in one shape.
//
// Error is the one located-error type: config validation, the rule
// compiler and the guidance pack loader all report an Errors list, printed
// as "file:line: field: message", one problem a line. Walk and Lines find
// the line of a key, so every reader of YAML locates its problems the same
// way. The package imports nothing from schoolwatch, so every package can
// use it.
package yamlpos

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
)

// Error is one problem in a YAML file.
type Error struct {
	File string // "" when not yet known, as from the rule compiler
	Line int    // 1-based; 0 when not known
	// Field is the key the problem is about: a path such as
	// "rules[2].query", or a front matter key. "" for a problem with the
	// file as a whole, such as a syntax error.
	Field string
	Msg   string
}

// Error returns "file:line: field: message", leaving out the parts that are
// not known.
func (e Error) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
		if e.Line > 0 {
			b.WriteString(":" + strconv.Itoa(e.Line))
		}
		b.WriteString(": ")
	}
	if e.Field != "" {
		b.WriteString(e.Field + ": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Errorf returns an Error for field in file, at line.
func Errorf(file string, line int, field, format string, args ...any) Error {
	return Error{File: file, Line: line, Field: field, Msg: fmt.Sprintf(format, args...)}
}

// Errors is every problem found, one a line when printed.
type Errors []Error

func (es Errors) Error() string {
	msgs := make([]string, len(es))
	for i, e := range es {
		msgs[i] = e.Error()
	}
	return strings.Join(msgs, "\n")
}

// Unwrap lets errors.As reach a single Error.
func (es Errors) Unwrap() []error {
	out := make([]error, len(es))
	for i, e := range es {
		out[i] = e
	}
	return out
}

// Add appends the problems in err to es: each Error of an Errors, an
// Error, or any other error as a problem of its own, located nowhere. A nil
// err adds nothing.
func (es *Errors) Add(err error) {
	var list Errors
	var one Error
	switch {
	case err == nil:
	case errors.As(err, &list):
		*es = append(*es, list...)
	case errors.As(err, &one):
		*es = append(*es, one)
	default:
		*es = append(*es, Error{Msg: err.Error()})
	}
}

// Err returns es as an error, or nil when there are none (a nil Errors in
// an error interface is not a nil error).
func (es Errors) Err() error {
	if len(es) == 0 {
		return nil
	}
	return es
}

// Sort orders es by file, then line, keeping the order of problems found on
// the same line.
func (es Errors) Sort() {
	slices.SortStableFunc(es, func(a, b Error) int {
		return cmp.Or(cmp.Compare(a.File, b.File), cmp.Compare(a.Line, b.Line))
	})
}

// A Key is one key or sequence item that Walk visits.
type Key struct {
	// Path names it the way a Field does: "mail.smtp.host", "rules[2]",
	// "rules[2].query"; a top-level sequence's items are "[0]", "[1]".
	Path   string
	Parent string // the enclosing Path ("" at the top)
	Name   string // the key; "" for a sequence item
	Line   int
}

// Walk visits every key and sequence item under n in document order,
// parents before their children. When visit returns false Walk does not go
// inside that key's value.
func Walk(n ast.Node, visit func(Key) bool) {
	walk(n, "", visit)
}

func walk(n ast.Node, path string, visit func(Key) bool) {
	var pairs []*ast.MappingValueNode
	switch v := Unwrap(n).(type) {
	case *ast.MappingNode:
		pairs = v.Values
	case *ast.MappingValueNode:
		pairs = []*ast.MappingValueNode{v}
	case *ast.SequenceNode:
		for i, item := range v.Values {
			k := Key{Path: fmt.Sprintf("%s[%d]", path, i), Parent: path, Line: NodeLine(item)}
			if visit(k) {
				walk(item, k.Path, visit)
			}
		}
	}
	for _, kv := range pairs {
		name := strings.Trim(kv.Key.String(), `"'`)
		k := Key{Path: name, Parent: path, Name: name, Line: NodeLine(kv.Key)}
		if path != "" {
			k.Path = path + "." + name
		}
		if visit(k) {
			walk(kv.Value, k.Path, visit)
		}
	}
}

// Lines maps the Path of each key and sequence item to its line.
type Lines map[string]int

// SourceLines returns the lines of everything in the first document of
// src, counted from firstLine (1 for a whole file; more for a block cut out
// of one, such as front matter). It returns an empty Lines for YAML that
// does not parse: the caller reports that when it decodes.
func SourceLines(src []byte, firstLine int) Lines {
	f, err := parser.ParseBytes(src, 0)
	if err != nil || len(f.Docs) == 0 || f.Docs[0].Body == nil {
		return Lines{}
	}
	l := Lines{}
	Walk(f.Docs[0].Body, func(k Key) bool {
		l[k.Path] = k.Line + firstLine - 1
		return true
	})
	return l
}

// Line returns the line of path, or failing that of the nearest enclosing
// path that has one ("rules[2]" for "rules[2].guidance" when the rule has
// no guidance key); 0 when none does.
func (l Lines) Line(path string) int {
	for path != "" {
		if n, ok := l[path]; ok {
			return n
		}
		i := strings.LastIndexAny(path, ".[")
		if i < 0 {
			break
		}
		path = path[:i]
	}
	return 0
}

// NodeLine is the line n starts on, or 0.
func NodeLine(n ast.Node) int {
	if n == nil || n.GetToken() == nil {
		return 0
	}
	return n.GetToken().Position.Line
}

// Unwrap returns the value under any tags and anchors on n.
func Unwrap(n ast.Node) ast.Node {
	for {
		switch v := n.(type) {
		case *ast.TagNode:
			n = v.Value
		case *ast.AnchorNode:
			n = v.Value
		default:
			return n
		}
	}
}
