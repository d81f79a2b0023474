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
	"github.com/schoolwatch/schoolwatch/yamlpos"
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
	// bodyLine is the line of File on which Markdown starts; fmLines has
	// the lines of the front matter keys. Both locate errors.
	bodyLine int
	fmLines  yamlpos.Lines
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

var idPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9-]*$`)

// splitFrontMatter separates a "---" delimited YAML block from the body.
// It returns the YAML, the body and the line the body starts on.
func splitFrontMatter(file string, src []byte) (fm, body []byte, bodyLine int, err error) {
	src = bytes.ReplaceAll(src, []byte("\r\n"), []byte("\n"))
	src = bytes.TrimPrefix(src, []byte("\ufeff"))
	rest, ok := bytes.CutPrefix(src, []byte("---\n"))
	if !ok {
		return nil, nil, 0, yamlpos.Error{File: file, Line: 1, Msg: `front matter missing: the file must start with a line "---"`}
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
	return nil, nil, 0, yamlpos.Error{File: file, Line: 1, Msg: `front matter not closed: add a line "---" after it`}
}

// fmStart is the line front matter starts on, after the opening "---".
const fmStart = 2

// keyLine is the line of a front matter key, or the file's first line when
// the key is absent (a missing title is reported on line 1).
func keyLine(lines yamlpos.Lines, key string) int {
	if l := lines.Line(key); l > 0 {
		return l
	}
	return 1
}

// fmErrors collects the problems of one file's front matter, each
// at its key's line.
type fmErrors struct {
	file  string
	lines yamlpos.Lines
	errs  yamlpos.Errors
}

// bad records a problem with the front matter key.
func (e *fmErrors) bad(key, format string, args ...any) {
	e.errs = append(e.errs, yamlpos.Errorf(e.file, keyLine(e.lines, key), key, format, args...))
}

// decodeFrontMatter splits a section or letter file, decodes its front
// matter strictly (unknown keys are errors) into fm, and returns the body,
// the line the body starts on, and where each front matter key is.
func decodeFrontMatter(file string, src []byte, fm any) (body []byte, bodyLine int, lines yamlpos.Lines, err error) {
	fmSrc, body, bodyLine, err := splitFrontMatter(file, src)
	if err != nil {
		return nil, 0, nil, err
	}
	if err := yaml.UnmarshalWithOptions(fmSrc, fm, yaml.DisallowUnknownField()); err != nil {
		var ye yaml.Error
		if errors.As(err, &ye) && ye.GetToken() != nil {
			return nil, 0, nil, yamlpos.Error{File: file, Line: ye.GetToken().Position.Line + fmStart - 1, Msg: "front matter: " + ye.GetMessage()}
		}
		return nil, 0, nil, yamlpos.Error{File: file, Line: fmStart, Msg: fmt.Sprintf("front matter: %v", err)}
	}
	return body, bodyLine, yamlpos.SourceLines(fmSrc, fmStart), nil
}

// parseSection reads one section file. Whether its contact and letter IDs
// exist is checked when the whole pack is assembled.
func parseSection(file string, src []byte) (*Section, error) {
	var fm frontMatter
	body, bodyLine, lines, err := decodeFrontMatter(file, src, &fm)
	if err != nil {
		return nil, err
	}
	fe := &fmErrors{file: file, lines: lines}
	bad := fe.bad
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
	fe.errs = append(fe.errs, checkHeadings(file, bodyLine, md)...)
	if len(fe.errs) > 0 {
		return nil, fe.errs
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
func checkHeadings(file string, bodyLine int, md string) yamlpos.Errors {
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
			return yamlpos.Errors{yamlpos.Errorf(file, lines[i], "", "unexpected heading %q: a section's headings are %q", h, Headings)}
		}
	}
	for _, h := range Headings {
		if !slices.Contains(got, h) {
			return yamlpos.Errors{yamlpos.Errorf(file, bodyLine, "", "missing heading \"## %s\": a section's headings are %q, in that order", h, Headings)}
		}
	}
	return yamlpos.Errors{yamlpos.Errorf(file, bodyLine, "", "headings %q must appear once each, in the order %q", got, Headings)}
}
