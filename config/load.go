package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"

	"github.com/schoolwatch/schoolwatch/yamlpos"
)

// MaxFileSize bounds the config file; a larger one is surely a mistake.
const MaxFileSize = 16 << 20

// Load reads, decodes, expands, defaults and validates the config at path,
// then runs checks on it. The error, when not nil, is a yamlpos.Errors
// listing every problem, validation's and the checks' together, sorted by
// line. A Config is returned only when there are none.
func Load(path string, checks ...Check) (*Config, error) {
	data, err := readFile(path, MaxFileSize)
	if err != nil {
		return nil, yamlpos.Errors{{File: path, Msg: err.Error()}}
	}
	return Parse(path, data, checks...)
}

// A Check finds problems that take more than the config to find:
// daemon.Compile checks each rule's guidance section against the guidance
// pack, compiles the rule queries and expands the feeds.
//
// Load runs its checks once the config is decoded and defaulted, even when
// validation has found problems, so that one run reports them all, from a
// malformed email to a missing parenthesis in a query. A check must
// therefore cope with a config that is not valid. It names each problem by
// Field ("rules[2].query") and Load adds the file and line. A problem on a
// field that validation already reported, or on a field inside or around
// it, is dropped: one mistake, one message (an empty query is "is
// required", not also the compiler's "empty query").
//
// Checks do not run on a config that could not be decoded at all, such as
// a YAML syntax error.
type Check func(*Config) yamlpos.Errors

// check runs checks on c and returns their problems, located, less those on
// fields that found already covers.
func (c *Config) check(found yamlpos.Errors, checks []Check) yamlpos.Errors {
	var out yamlpos.Errors
	for _, check := range checks {
		for _, e := range check(c) {
			if e.File == "" {
				e.File, e.Line, e.Field = c.where(e.Field)
			}
			if slices.ContainsFunc(found, func(f yamlpos.Error) bool { return f.File == e.File && overlap(f.Field, e.Field) }) {
				continue
			}
			out = append(out, e)
		}
	}
	return out
}

// overlap reports whether fields a and b are the same, or one is inside
// the other ("feeds" and "feeds[0].url").
func overlap(a, b string) bool {
	if a == "" || b == "" {
		return false
	}
	inside := func(inner, outer string) bool {
		rest, ok := strings.CutPrefix(inner, outer)
		return ok && (rest == "" || rest[0] == '.' || rest[0] == '[')
	}
	return inside(a, b) || inside(b, a)
}

func readFile(path string, max int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if fi.Size() > max {
		return nil, fmt.Errorf("file is %d bytes, more than the %d allowed", fi.Size(), max)
	}
	b, err := io.ReadAll(io.LimitReader(f, max+1))
	if err == nil && int64(len(b)) > max {
		err = fmt.Errorf("file is more than the %d bytes allowed", max)
	}
	return b, err
}

var yamlPosRE = regexp.MustCompile(`^\[(\d+):(\d+)\]\s*`)

// Parse is Load for config bytes already read; name is used in messages and
// relative paths in the config are resolved against its directory.
func Parse(name string, data []byte, checks ...Check) (*Config, error) {
	lines := bytes.SplitAfter(data, []byte("\n"))
	if blocks := findBlocks(lines, splitKeys, splitMinItems); len(blocks) > 0 {
		c := &Config{File: name, pos: newPositions()}
		if errs, ok := decodeSplit(lines, blocks, c, reflect.TypeOf(Config{}), c.pos, c.Errorf); ok {
			return c.load(data, errs, checks)
		}
	}
	file, err := parser.ParseBytes(data, 0)
	if err != nil {
		return nil, yamlpos.Errors{yamlError(name, err)}
	}
	c := &Config{File: name, pos: newPositions()}
	var errs yamlpos.Errors
	var root ast.Node
	if len(file.Docs) > 0 {
		root = file.Docs[0].Body
	}
	if len(file.Docs) > 1 {
		errs = append(errs, yamlpos.Error{File: name, Line: 1, Msg: "config must be a single YAML document"})
	}
	if root != nil {
		if _, ok := yamlpos.Unwrap(root).(*ast.MappingNode); !ok {
			if _, ok := yamlpos.Unwrap(root).(*ast.MappingValueNode); !ok {
				return nil, yamlpos.Errors{{File: name, Line: yamlpos.NodeLine(root), Msg: "config must be a YAML mapping"}}
			}
		}
		errs = append(errs, locate(root, reflect.TypeOf(Config{}), c.pos.Lines, c.Errorf)...)
		if err := decode(root, c); err != nil {
			errs = append(errs, yamlError(name, err))
			errs.Sort()
			return nil, errs
		}
	}
	return c.load(data, errs, checks)
}

// splitKeys are the lists that may be long enough to decode item by item.
// Not feeds: validation asks which keys each feed sets (present), which
// would parse every feed a second time.
var splitKeys = map[string]bool{"schools": true}

// load is the rest of Parse once the config is decoded, with the
// problems found so far: schools_file, expansion, defaults, validation
// and checks.
func (c *Config) load(data []byte, errs yamlpos.Errors, checks []Check) (*Config, error) {
	if err := c.loadSchoolsFile(); err != nil {
		errs = append(errs, err...)
		if c.schools.path == "" {
			// The file could not be read or decoded: without its schools,
			// validation would report them missing and nothing useful.
			errs.Sort()
			return nil, errs
		}
	}
	errs = append(errs, c.expand(data)...)
	errs = append(errs, c.mergeBuiltin()...)
	c.applyDefaults()
	errs = append(errs, c.validate()...)
	errs = append(errs, c.check(errs, checks)...)
	if len(errs) > 0 {
		errs.Sort()
		return nil, errs
	}
	c.indexSchools()
	c.pos.forget()
	c.schools.pos.forget()
	return c, nil
}

func yamlError(name string, err error) yamlpos.Error {
	msg := yaml.FormatError(err, false, false)
	msg = strings.TrimSpace(strings.SplitN(msg, "\n", 2)[0])
	e := yamlpos.Error{File: name, Msg: msg}
	if m := yamlPosRE.FindStringSubmatch(msg); m != nil {
		e.Line, _ = strconv.Atoi(m[1])
		e.Msg = strings.TrimSpace(msg[len(m[0]):])
	}
	return e
}

// Where returns "file:line" for a field path such as "rules[2].query",
// falling back to the nearest enclosing field that appears in the file.
// A school from schools_file is located in that file.
func (c *Config) Where(field string) string {
	file, line, _ := c.where(field)
	if line == 0 {
		return file
	}
	return file + ":" + strconv.Itoa(line)
}

// Errorf returns an Error for field, located in the file: the config, or
// for a school from schools_file that file, with the field named as it is
// there ("schools[2].name" for the third school in the file).
func (c *Config) Errorf(field, format string, args ...any) yamlpos.Error {
	file, line, shown := c.where(field)
	return yamlpos.Errorf(file, line, shown, format, args...)
}

// Resolve makes a path from the config relative to the config file's folder.
func (c *Config) Resolve(p string) string {
	if p == "" || filepath.IsAbs(p) || c.File == "" {
		return p
	}
	return filepath.Join(filepath.Dir(c.File), p)
}

var textUnmarshaler = reflect.TypeOf((*interface{ UnmarshalText([]byte) error })(nil)).Elem()

// locate records in pos the line of every key and list item under root, a
// document decoded into a value of type top, and reports keys that the
// schema has no field for, so that a typo is an error rather than a
// silently ignored key.
func locate(root ast.Node, top reflect.Type, pos yamlpos.Lines, errorf func(field, format string, args ...any) yamlpos.Error) yamlpos.Errors {
	var errs yamlpos.Errors
	types := map[string]reflect.Type{"": top} // by path
	yamlpos.Walk(root, func(k yamlpos.Key) bool {
		pos[k.Path] = k.Line
		t := types[k.Parent]
		for t != nil && t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		switch {
		case t == nil || reflect.PointerTo(t).Implements(textUnmarshaler):
			return false // a value decoded as a whole, such as a Duration
		case k.Name == "":
			if t.Kind() != reflect.Slice {
				return false
			}
			types[k.Path] = t.Elem()
			return true
		case t.Kind() != reflect.Struct:
			return false
		}
		f, ok := fieldByTag(t, k.Name)
		if !ok {
			errs = append(errs, errorf(k.Path, "unknown key%s", suggest(t, k.Name)))
			return false
		}
		types[k.Path] = f.Type
		return true
	})
	return errs
}

func fieldByTag(t reflect.Type, key string) (reflect.StructField, bool) {
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name := strings.Split(f.Tag.Get("yaml"), ",")[0]
		if name == key && name != "-" {
			return f, true
		}
	}
	return reflect.StructField{}, false
}

func suggest(t reflect.Type, key string) string {
	var names []string
	for i := 0; i < t.NumField(); i++ {
		name := strings.Split(t.Field(i).Tag.Get("yaml"), ",")[0]
		if name != "" && name != "-" {
			names = append(names, name)
		}
	}
	for _, n := range names {
		if strings.EqualFold(n, key) || strings.ReplaceAll(n, "_", "") == strings.ReplaceAll(strings.ToLower(key), "-", "") {
			return fmt.Sprintf(" (did you mean %q?)", n)
		}
	}
	return " (known keys: " + strings.Join(names, ", ") + ")"
}

var envRE = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)\}`)

// expand replaces ${VAR} in every string value with the environment
// variable's value and reads password_file. A variable that is not set is an
// error: silently sending mail with an empty password helps nobody.
func (c *Config) expand(data []byte) yamlpos.Errors {
	var errs yamlpos.Errors
	var walk func(v reflect.Value, path string)
	walk = func(v reflect.Value, path string) {
		switch v.Kind() {
		case reflect.Pointer:
			if !v.IsNil() {
				walk(v.Elem(), path)
			}
		case reflect.Struct:
			if v.Addr().Type().Implements(textUnmarshaler) {
				return
			}
			t := v.Type()
			for i := 0; i < t.NumField(); i++ {
				name := strings.Split(t.Field(i).Tag.Get("yaml"), ",")[0]
				if name == "" || name == "-" || !t.Field(i).IsExported() {
					continue
				}
				fp := name
				if path != "" {
					fp = path + "." + name
				}
				walk(v.Field(i), fp)
			}
		case reflect.Slice:
			for i := 0; i < v.Len(); i++ {
				walk(v.Index(i), fmt.Sprintf("%s[%d]", path, i))
			}
		case reflect.String:
			s := v.String()
			if !strings.Contains(s, "${") {
				return
			}
			v.SetString(envRE.ReplaceAllStringFunc(s, func(m string) string {
				name := m[2 : len(m)-1]
				val, ok := os.LookupEnv(name)
				if !ok {
					errs = append(errs, c.Errorf(path, "environment variable %s is not set", name))
				}
				return val
			}))
		}
	}
	walk(reflect.ValueOf(c).Elem(), "")
	if s := c.Mail.SMTP; s != nil && s.PasswordFile != "" {
		switch b, err := readSecret(c.Resolve(s.PasswordFile)); {
		case err != nil:
			errs = append(errs, c.Errorf("mail.smtp.password_file", "cannot read %s: %v", s.PasswordFile, err))
		case s.Password != "":
			errs = append(errs, c.Errorf("mail.smtp.password_file", "set password or password_file, not both"))
		default:
			s.Password = strings.TrimRight(string(b), "\r\n")
		}
	}
	if c.Store.DSNFile != "" {
		switch b, err := readSecret(c.Resolve(c.Store.DSNFile)); {
		case err != nil:
			errs = append(errs, c.Errorf("store.dsn_file", "cannot read %s: %v", c.Store.DSNFile, err))
		case c.Store.DSN != "":
			errs = append(errs, c.Errorf("store.dsn_file", "set dsn or dsn_file, not both"))
		default:
			c.Store.DSN = strings.TrimSpace(string(b))
		}
	}
	return errs
}

// MaxSecretSize caps a *_file secret; a password is short, and a path such
// as /dev/zero must not hang loading.
const MaxSecretSize = 64 << 10

// readSecret reads a *_file secret. Only a regular file is accepted: a
// named pipe would block open() and read() until a writer came, which hangs
// `check` and a SIGHUP reload (and with it the daemon's SIGTERM handling),
// and a directory or device is never a password. The path is checked
// before opening, and opened non-blocking and checked again, so a file
// swapped for a pipe in between cannot hang either.
func readSecret(path string) ([]byte, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, bare(err)
	}
	if err := regular(fi); err != nil {
		return nil, err
	}
	f, err := openRegular(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, MaxSecretSize+1))
	if err != nil {
		return nil, bare(err)
	}
	if len(b) > MaxSecretSize {
		return nil, fmt.Errorf("larger than %d bytes: not a password file", MaxSecretSize)
	}
	return b, nil
}

// openRegular opens path for reading without blocking, whatever it is,
// and returns it only if it is a regular file.
func openRegular(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, bare(err)
	}
	fi, err := f.Stat()
	if err == nil {
		err = regular(fi)
	}
	if err != nil {
		f.Close()
		return nil, bare(err)
	}
	return f, nil
}

// regular returns an error saying what fi is unless it is a regular file.
func regular(fi os.FileInfo) error {
	m := fi.Mode()
	what := "a " + m.Type().String() + " file"
	switch {
	case m.IsRegular():
		return nil
	case m&os.ModeNamedPipe != 0:
		what = "a named pipe (FIFO)"
	case m.IsDir():
		what = "a directory"
	case m&os.ModeSocket != 0:
		what = "a socket"
	case m&os.ModeDevice != 0:
		what = "a device"
	}
	return errors.New("it is " + what + ", not a regular file")
}

// bare drops the path from an *os.PathError: the caller's message names
// the file already.
func bare(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// decode is yaml.NodeToValue, with a panic inside the YAML library (seen
// with some malformed input) turned into an error: a broken config must be
// reported, never crash the daemon or a reload.
func decode(root ast.Node, v any) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("[%d:1] cannot decode this YAML: %v", yamlpos.NodeLine(root), r)
		}
	}()
	return yaml.NodeToValue(root, v)
}
