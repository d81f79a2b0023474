package guidance

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/goccy/go-yaml"

	"github.com/schoolwatch/schoolwatch/rules"
)

// Headings are the second-level headings every section body has, in this
// order, so that each piece of advice has the same shape.
var Headings = []string{"When this applies", "Do now", "Do not", "Who to contact", "Policies to check"}

// Section is one piece of advice: a Markdown body with its front matter.
type Section struct {
	ID, Title, Summary string
	// Categories are the rule categories the section fits.
	Categories []rules.Category
	// Contacts are the IDs of the contacts the section points to.
	Contacts []string
	// Letters are the IDs of template letters the section offers.
	Letters []string
	// NextHour are two or three short instructions for the first hour,
	// taken from the section's "Do now" list, for the first screen of an
	// alert. Where someone may be in immediate danger the first one is to
	// call 999. Plain text, no Markdown. Empty for a custom section that
	// does not set next_hour.
	NextHour []string
	// Markdown is the body without front matter.
	Markdown string
	// File names where the section came from ("builtin:sections/x.md" or a path).
	File string
	// bodyLine is the line of File on which Markdown starts; fmLines maps
	// front matter keys to their lines. Both locate errors.
	bodyLine int
	fmLines  map[string]int
}

// frontMatter is the YAML block at the top of a section file.
type frontMatter struct {
	ID         string           `yaml:"id"`
	Title      string           `yaml:"title"`
	Summary    string           `yaml:"summary"`
	Categories []rules.Category `yaml:"categories"`
	Contacts   []string         `yaml:"contacts"`
	Letters    []string         `yaml:"letters"`
	NextHour   []string         `yaml:"next_hour"`
}

// MaxNextHour is how many next_hour lines a section may have, and
// MaxNextHourLen how long each may be in characters: they must fit the
// first screen of a phone.
const (
	MaxNextHour    = 3
	MaxNextHourLen = 100
)

// FileError is a problem in a pack file, located by line.
type FileError struct {
	File string
	Line int
	Msg  string
}

func (e *FileError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
	}
	return fmt.Sprintf("%s: %s", e.File, e.Msg)
}

var idPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9-]*$`)

// splitFrontMatter separates a "---" delimited YAML block from the body.
// It returns the YAML, the body and the line the body starts on.
func splitFrontMatter(file string, src []byte) (fm, body []byte, bodyLine int, err error) {
	src = bytes.ReplaceAll(src, []byte("\r\n"), []byte("\n"))
	src = bytes.TrimPrefix(src, []byte("\ufeff"))
	rest, ok := bytes.CutPrefix(src, []byte("---\n"))
	if !ok {
		return nil, nil, 0, &FileError{file, 1, `front matter missing: the file must start with a line "---"`}
	}
	line := 2
	for len(rest) > 0 {
		l, tail, _ := bytes.Cut(rest, []byte("\n"))
		if string(bytes.TrimRight(l, " \t")) == "---" {
			n := len(src) - len(rest)
			return src[4:n], tail, line + 1, nil
		}
		rest = tail
		line++
	}
	return nil, nil, 0, &FileError{file, 1, `front matter not closed: add a line "---" after it`}
}

// keyLines maps each top-level front matter key to its line in the file.
func keyLines(fm []byte) map[string]int {
	m := map[string]int{}
	for i, l := range strings.Split(string(fm), "\n") {
		if k, _, ok := strings.Cut(l, ":"); ok && k != "" && k[0] != ' ' && k[0] != '#' && k[0] != '-' {
			m[strings.TrimSpace(k)] = i + 2 // front matter starts on line 2
		}
	}
	return m
}

// keyLineMap gives the line of each front matter key.
type keyLineMap map[string]int

// at is the line of key, or 1 when the key is absent.
func (m keyLineMap) at(key string) int {
	if l, ok := m[key]; ok {
		return l
	}
	return 1
}

// decodeFrontMatter splits a section or letter file, decodes its front
// matter strictly (unknown keys are errors) into fm, and returns the body,
// the line the body starts on, and where each front matter key is.
func decodeFrontMatter(file string, src []byte, fm any) (body []byte, bodyLine int, lines keyLineMap, err error) {
	fmSrc, body, bodyLine, err := splitFrontMatter(file, src)
	if err != nil {
		return nil, 0, nil, err
	}
	if err := yaml.UnmarshalWithOptions(fmSrc, fm, yaml.DisallowUnknownField()); err != nil {
		var ye yaml.Error
		if errors.As(err, &ye) && ye.GetToken() != nil {
			return nil, 0, nil, &FileError{file, ye.GetToken().Position.Line + 1, "front matter: " + ye.GetMessage()}
		}
		return nil, 0, nil, &FileError{file, 2, fmt.Sprintf("front matter: %v", err)}
	}
	return body, bodyLine, keyLines(fmSrc), nil
}

// parseSection reads one section file. Whether its contact and letter IDs
// exist is checked when the whole pack is assembled.
func parseSection(file string, src []byte) (*Section, error) {
	var fm frontMatter
	body, bodyLine, lines, err := decodeFrontMatter(file, src, &fm)
	if err != nil {
		return nil, err
	}
	at := lines.at
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, &FileError{file, at(key), key + ": " + fmt.Sprintf(format, args...)})
	}
	switch {
	case fm.ID == "":
		bad("id", "is required")
	case !idPattern.MatchString(fm.ID):
		bad("id", "%q must be lower-case letters, digits and hyphens", fm.ID)
	}
	if strings.TrimSpace(fm.Title) == "" {
		bad("title", "is required")
	}
	if strings.TrimSpace(fm.Summary) == "" {
		bad("summary", "is required")
	}
	if len(fm.Categories) == 0 {
		bad("categories", "at least one is required (%s)", rules.Join(rules.Categories))
	}
	for _, c := range fm.Categories {
		if !slices.Contains(rules.Categories, c) {
			bad("categories", "unknown category %q (use %s)", c, rules.Join(rules.Categories))
		}
	}
	var next []string
	if len(fm.NextHour) > MaxNextHour {
		bad("next_hour", "has %d lines; give at most %d", len(fm.NextHour), MaxNextHour)
	}
	for i, l := range fm.NextHour {
		l = strings.Join(strings.Fields(l), " ")
		switch {
		case l == "":
			bad("next_hour", "line %d is empty", i+1)
		case utf8.RuneCountInString(l) > MaxNextHourLen:
			bad("next_hour", "line %d has %d characters; keep each to %d or fewer", i+1, utf8.RuneCountInString(l), MaxNextHourLen)
		}
		next = append(next, l)
	}
	trimmed := strings.TrimLeft(string(body), "\n")
	bodyLine += strings.Count(string(body)[:len(body)-len(trimmed)], "\n")
	md := strings.TrimRight(trimmed, " \t\n") + "\n"
	errs = append(errs, checkHeadings(file, bodyLine, md)...)
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return &Section{
		ID:         fm.ID,
		Title:      strings.TrimSpace(fm.Title),
		Summary:    strings.TrimSpace(fm.Summary),
		Categories: fm.Categories,
		Contacts:   fm.Contacts,
		Letters:    fm.Letters,
		NextHour:   next,
		Markdown:   md,
		File:       file,
		bodyLine:   bodyLine,
		fmLines:    lines,
	}, nil
}

// checkHeadings reports a body whose "## " headings are not exactly Headings,
// in order.
func checkHeadings(file string, bodyLine int, md string) []error {
	var got []string
	var lines []int
	fence := false
	for i, l := range strings.Split(md, "\n") {
		if strings.HasPrefix(l, "```") || strings.HasPrefix(l, "~~~") {
			fence = !fence
		}
		if h, ok := strings.CutPrefix(l, "## "); ok && !fence {
			got = append(got, strings.TrimSpace(h))
			lines = append(lines, bodyLine+i)
		}
	}
	if slices.Equal(got, Headings) {
		return nil
	}
	for i, h := range got {
		if !slices.Contains(Headings, h) {
			return []error{&FileError{file, lines[i], fmt.Sprintf("unexpected heading %q: a section's headings are %q", h, Headings)}}
		}
	}
	for _, h := range Headings {
		if !slices.Contains(got, h) {
			return []error{&FileError{file, bodyLine, fmt.Sprintf("missing heading \"## %s\": a section's headings are %q, in that order", h, Headings)}}
		}
	}
	return []error{&FileError{file, bodyLine, fmt.Sprintf("headings %q must appear once each, in the order %q", got, Headings)}}
}
