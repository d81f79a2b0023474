package yamlpos

import (
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/goccy/go-yaml/parser"
)

func TestErrorFormat(t *testing.T) {
	for _, tc := range []struct {
		e    Error
		want string
	}{
		{Error{File: "c.yml", Line: 7, Field: "rules[0].query", Msg: "col 3: bad"}, "c.yml:7: rules[0].query: col 3: bad"},
		{Error{File: "c.yml", Field: "feeds", Msg: "m"}, "c.yml: feeds: m"},
		{Error{File: "c.yml", Line: 2, Msg: "syntax"}, "c.yml:2: syntax"},
		{Error{Field: "schools[1].id", Msg: "missing"}, "schools[1].id: missing"},
		{Error{Msg: "plain"}, "plain"},
	} {
		if got := tc.e.Error(); got != tc.want {
			t.Errorf("%+v: got %q, want %q", tc.e, got, tc.want)
		}
	}
}

func TestErrorsAddSortErr(t *testing.T) {
	var es Errors
	if es.Err() != nil {
		t.Fatal("empty Errors gave a non-nil error")
	}
	es.Add(nil)
	es.Add(Errors{{File: "b", Line: 3, Msg: "b3"}, {File: "a", Line: 9, Msg: "a9"}})
	es.Add(fmt.Errorf("wrapped: %w", Error{File: "a", Line: 9, Msg: "a9 again"}))
	es.Add(errors.New("loose"))
	es.Add(Error{File: "a", Line: 1, Msg: "a1"})
	es.Sort()
	var got []string
	for _, e := range es {
		got = append(got, e.Error())
	}
	want := []string{"loose", "a:1: a1", "a:9: a9", "a:9: a9 again", "b:3: b3"}
	if !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
	var one Error
	if err := es.Err(); !errors.As(err, &one) || one.Msg != "loose" {
		t.Errorf("errors.As through Errors found %+v", one)
	}
}

const doc = `# a comment
mail:
  smtp: { host: h, port: 25 }
rules:
  - id: a
    query: x
  - !tag
    id: b
`

func TestWalkAndLines(t *testing.T) {
	f, err := parser.ParseBytes([]byte(doc), 0)
	if err != nil {
		t.Fatal(err)
	}
	var paths []string
	Walk(f.Docs[0].Body, func(k Key) bool {
		paths = append(paths, fmt.Sprintf("%s@%d<%s>", k.Path, k.Line, k.Parent))
		return k.Path != "mail.smtp" // do not go inside
	})
	want := []string{"mail@2<>", "mail.smtp@3<mail>", "rules@4<>", "rules[0]@5<rules>", "rules[0].id@5<rules[0]>",
		"rules[0].query@6<rules[0]>", "rules[1]@7<rules>", "rules[1].id@8<rules[1]>"}
	if !slices.Equal(paths, want) {
		t.Errorf("Walk visited\n%q\nwant\n%q", paths, want)
	}

	l := SourceLines([]byte(doc), 10)
	for path, want := range map[string]int{
		"mail.smtp.port":    12,
		"rules[1].id":       17,
		"rules[1].guidance": 16, // absent: the enclosing item's line
		"rules[0].query":    15,
		"nowhere":           0,
	} {
		if got := l.Line(path); got != want {
			t.Errorf("Line(%q) = %d, want %d", path, got, want)
		}
	}
	if got := SourceLines([]byte("a: [\n"), 1); len(got) != 0 {
		t.Errorf("lines of broken YAML = %v, want none", got)
	}
}
