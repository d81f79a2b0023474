package config

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"reflect"
	"strconv"
	"strings"

	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"

	"github.com/schoolwatch/schoolwatch/yamlpos"
)

// MaxSchoolsFileSize bounds schools_file: every school in England, imported
// with aliases, context and leaders, is about 20 MiB of YAML.
const MaxSchoolsFileSize = 128 << 20

// schoolsSource says where the schools of schools_file sit: in the file
// at path, and from index first on in Config.Schools.
type schoolsSource struct {
	path  string
	first int
	pos   *positions // "schools[i]…" as numbered in the file
}

// SchoolsDocument is the shape of a schools_file: a top-level schools:
// list and nothing else.
type SchoolsDocument struct {
	Schools []School `yaml:"schools"`
}

// loadSchoolsFile appends the schools of schools_file to c.Schools. The
// problems it returns are located in that file. c.schools.path is set only
// when the file was read and decoded: the caller stops otherwise.
func (c *Config) loadSchoolsFile() yamlpos.Errors {
	if c.SchoolsFile == "" {
		return nil
	}
	var errs yamlpos.Errors
	name := envRE.ReplaceAllStringFunc(c.SchoolsFile, func(m string) string {
		val, ok := os.LookupEnv(m[2 : len(m)-1])
		if !ok {
			errs = append(errs, c.Errorf("schools_file", "environment variable %s is not set", m[2:len(m)-1]))
		}
		return val
	})
	if len(errs) > 0 {
		return errs
	}
	path := c.Resolve(name)
	data, err := readSchoolsFile(path)
	if err != nil {
		return yamlpos.Errors{c.Errorf("schools_file", "cannot read %s: %v", name, err)}
	}
	if c.File != "" && sameFile(c.File, path) {
		return yamlpos.Errors{c.Errorf("schools_file", "names this config file; list its schools under schools: instead")}
	}
	src := schoolsSource{path: path, first: len(c.Schools), pos: newPositions()}
	errorf := func(field, format string, args ...any) yamlpos.Error {
		return yamlpos.Errorf(path, src.pos.Line(field), field, format, args...)
	}
	var doc SchoolsDocument
	lines := bytes.SplitAfter(data, []byte("\n"))
	if blocks := findBlocks(lines, map[string]bool{"schools": true}, splitMinItems); len(blocks) > 0 {
		if errs, ok := decodeSplit(lines, blocks, &doc, reflect.TypeOf(doc), src.pos, errorf); ok {
			c.Schools = append(c.Schools, doc.Schools...)
			c.schools = src
			return errs
		}
		src.pos = newPositions()
	}
	file, err := parser.ParseBytes(data, 0)
	if err != nil {
		return yamlpos.Errors{yamlError(path, err)}
	}
	var root ast.Node
	if len(file.Docs) > 0 {
		root = file.Docs[0].Body
	}
	if root == nil {
		return yamlpos.Errors{{File: path, Msg: "is empty: want a top-level schools: list"}}
	}
	if len(file.Docs) > 1 {
		return yamlpos.Errors{{File: path, Line: 1, Msg: "must be a single YAML document"}}
	}
	switch yamlpos.Unwrap(root).(type) {
	case *ast.MappingNode, *ast.MappingValueNode:
	default:
		return yamlpos.Errors{{File: path, Line: yamlpos.NodeLine(root), Msg: "must be a YAML mapping with a top-level schools: list"}}
	}
	errs = locate(root, reflect.TypeOf(SchoolsDocument{}), src.pos.Lines, errorf)
	if err := decode(root, &doc); err != nil {
		return append(errs, yamlError(path, err))
	}
	if !src.pos.has("schools") {
		errs = append(errs, yamlpos.Error{File: path, Line: 1, Msg: "has no top-level schools: list"})
	}
	c.Schools = append(c.Schools, doc.Schools...)
	c.schools = src
	return errs
}

// LoadSchoolsFile reads the schools of a schools_file on its own, as
// `schoolwatch import gias -keep` does. It checks the file's shape and
// keys, not the schools: a config that names the file does that.
func LoadSchoolsFile(path string) ([]School, error) {
	c := &Config{SchoolsFile: path, pos: newPositions()}
	if errs := c.loadSchoolsFile(); len(errs) > 0 {
		errs.Sort()
		return nil, errs
	}
	return c.Schools, nil
}

// readSchoolsFile reads a schools file, which must be a regular file no
// larger than MaxSchoolsFileSize: a named pipe would hang a reload.
func readSchoolsFile(path string) ([]byte, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, bare(err)
	}
	if err := regular(fi); err != nil {
		return nil, err
	}
	if fi.Size() > MaxSchoolsFileSize {
		return nil, fmt.Errorf("file is %d bytes, more than the %d allowed", fi.Size(), MaxSchoolsFileSize)
	}
	f, err := openRegular(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, MaxSchoolsFileSize+1))
	if err != nil {
		return nil, bare(err)
	}
	if len(b) > MaxSchoolsFileSize {
		return nil, fmt.Errorf("file is more than the %d bytes allowed", MaxSchoolsFileSize)
	}
	return b, nil
}

func sameFile(a, b string) bool {
	fa, err := os.Stat(a)
	if err != nil {
		return false
	}
	fb, err := os.Stat(b)
	return err == nil && os.SameFile(fa, fb)
}

// where locates field: the file and line it is on and its name there. A
// field of a school from schools_file ("schools[612].name" with 600 inline
// schools) is in that file, renumbered as the file numbers it
// ("schools[12].name").
func (c *Config) where(field string) (file string, line int, shown string) {
	if s := c.schools; s.path != "" {
		if rest, ok := strings.CutPrefix(field, "schools["); ok {
			if j := strings.IndexByte(rest, ']'); j > 0 {
				if n, err := strconv.Atoi(rest[:j]); err == nil && n >= s.first {
					shown = "schools[" + strconv.Itoa(n-s.first) + "]" + rest[j+1:]
					return s.path, s.pos.Line(shown), shown
				}
			}
		}
	}
	return c.File, c.pos.Line(field), field
}

// indexSchools builds the index School looks IDs up in.
func (c *Config) indexSchools() {
	c.schoolIndex = make(map[string]int, len(c.Schools))
	for i, s := range c.Schools {
		c.schoolIndex[s.ID] = i
	}
}
