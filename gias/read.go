package gias

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"
)

// Establishment is one row of the register: the columns schoolwatch uses.
type Establishment struct {
	Line     int // the line the row starts on, counting the header as 1
	URN      string
	Name     string
	LA       string // "LA (name)"
	Status   string // "EstablishmentStatus (name)"
	Type     string // "TypeOfEstablishment (name)"
	Phase    string // "PhaseOfEducation (name)"
	Street   string
	Locality string
	Address3 string
	Town     string
	Postcode string
	Website  string // "SchoolWebsite"
	Trust    string // "Trusts (name)"

	HeadTitle, HeadFirstName, HeadLastName string
}

// column ties a header name to an Establishment field.
type column struct {
	name     string
	required bool
	field    func(*Establishment) *string
}

var columns = []column{
	{"URN", true, func(e *Establishment) *string { return &e.URN }},
	{"EstablishmentName", true, func(e *Establishment) *string { return &e.Name }},
	{"EstablishmentStatus (name)", true, func(e *Establishment) *string { return &e.Status }},
	{"LA (name)", true, func(e *Establishment) *string { return &e.LA }},
	{"TypeOfEstablishment (name)", false, func(e *Establishment) *string { return &e.Type }},
	{"PhaseOfEducation (name)", false, func(e *Establishment) *string { return &e.Phase }},
	{"Street", false, func(e *Establishment) *string { return &e.Street }},
	{"Locality", false, func(e *Establishment) *string { return &e.Locality }},
	{"Address3", false, func(e *Establishment) *string { return &e.Address3 }},
	{"Town", false, func(e *Establishment) *string { return &e.Town }},
	{"Postcode", false, func(e *Establishment) *string { return &e.Postcode }},
	{"SchoolWebsite", false, func(e *Establishment) *string { return &e.Website }},
	{"Trusts (name)", false, func(e *Establishment) *string { return &e.Trust }},
	{"HeadTitle (name)", false, func(e *Establishment) *string { return &e.HeadTitle }},
	{"HeadFirstName", false, func(e *Establishment) *string { return &e.HeadFirstName }},
	{"HeadLastName", false, func(e *Establishment) *string { return &e.HeadLastName }},
}

// Encodings a file's text fields were found in.
const (
	ASCII       = "ASCII"
	UTF8        = "UTF-8"
	Windows1252 = "Windows-1252"
	Mixed       = "UTF-8 and Windows-1252"
)

// A Warning is a problem with one row, or with the file as a whole (Line
// 0); the row is skipped or imported without the part at fault, as Msg
// says.
type Warning struct {
	Line int
	URN  string
	Msg  string
}

// String is "line N: URN U: message", less the parts not known.
func (w Warning) String() string {
	var b strings.Builder
	if w.Line > 0 {
		b.WriteString("line " + strconv.Itoa(w.Line) + ": ")
	}
	if w.URN != "" {
		b.WriteString("URN " + w.URN + ": ")
	}
	b.WriteString(w.Msg)
	return b.String()
}

// Scanner reads establishments from a GIAS CSV one row at a time.
type Scanner struct {
	r        *csv.Reader
	index    []int // column i of columns is field index[i] of a row; -1 if absent
	missing  []string
	est      Establishment
	warnings []Warning
	err      error
	utf8     bool // some field was non-ASCII UTF-8
	cp1252   bool // some field was not UTF-8
	rows     int
}

// MaxFields bounds the columns of a row; the register has about 140.
const MaxFields = 2000

// NewScanner reads the header of a GIAS CSV and returns a Scanner for its
// rows. It fails when the header lacks a column schoolwatch cannot do
// without (URN, EstablishmentName, EstablishmentStatus (name), LA (name)).
func NewScanner(r io.Reader) (*Scanner, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	head, _ := br.Peek(3)
	switch {
	case bytes.HasPrefix(head, []byte("\xEF\xBB\xBF")):
		br.Discard(3)
	case bytes.HasPrefix(head, []byte("\xFF\xFE")), bytes.HasPrefix(head, []byte("\xFE\xFF")):
		return nil, errors.New("the file is UTF-16: save it as CSV (UTF-8 or Windows-1252)")
	}
	s := &Scanner{r: csv.NewReader(br)}
	s.r.ReuseRecord = true
	header, err := s.r.Read()
	if err == io.EOF {
		return nil, errors.New("the file is empty")
	}
	if err != nil {
		return nil, fmt.Errorf("header: %w", err)
	}
	if len(header) > MaxFields {
		return nil, fmt.Errorf("header has %d columns, more than %d: not a GIAS establishment file", len(header), MaxFields)
	}
	pos := map[string]int{}
	for i, h := range header {
		k := strings.ToLower(strings.TrimSpace(h))
		if _, dup := pos[k]; !dup {
			pos[k] = i
		}
	}
	var absent []string
	s.index = make([]int, len(columns))
	for i, c := range columns {
		j, ok := pos[strings.ToLower(c.name)]
		if !ok {
			j = -1
			if c.required {
				absent = append(absent, c.name)
			} else {
				s.missing = append(s.missing, c.name)
			}
		}
		s.index[i] = j
	}
	if len(absent) > 0 {
		return nil, fmt.Errorf("the header has no %s column: is this the GIAS establishment file (edubasealldata*.csv)?", strings.Join(absent, ", "))
	}
	return s, nil
}

// Missing lists the optional columns the header lacks; their fields are
// empty in every row.
func (s *Scanner) Missing() []string { return s.missing }

// Has reports whether the header has the column name.
func (s *Scanner) Has(name string) bool { return !slices.Contains(s.missing, name) }

// Scan reads the next well-formed row into Establishment. A malformed row
// (a broken quote, the wrong number of fields) is recorded as a warning
// and skipped. Scan returns false at the end of the file or on a read
// error, which Err returns.
func (s *Scanner) Scan() bool {
	for {
		rec, err := s.r.Read()
		var pe *csv.ParseError
		switch {
		case err == io.EOF:
			return false
		case errors.As(err, &pe):
			s.rows++
			s.warnings = append(s.warnings, Warning{Line: pe.StartLine, Msg: "malformed row skipped: " + describe(pe)})
			continue
		case err != nil:
			s.err = err
			return false
		}
		s.rows++
		line, _ := s.r.FieldPos(0)
		s.est = Establishment{Line: line}
		for i, c := range columns {
			if j := s.index[i]; j >= 0 {
				*c.field(&s.est) = s.text(rec[j])
			}
		}
		return true
	}
}

func describe(pe *csv.ParseError) string {
	if errors.Is(pe.Err, csv.ErrFieldCount) {
		return "it has a different number of fields from the header"
	}
	return pe.Err.Error()
}

// text decodes one field, which outlives the reused record.
func (s *Scanner) text(f string) string {
	ascii := true
	for i := 0; i < len(f); i++ {
		if f[i] >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	switch {
	case ascii:
	case utf8.ValidString(f):
		s.utf8 = true
	default:
		s.cp1252 = true
		b, err := charmap.Windows1252.NewDecoder().String(f)
		if err != nil {
			b = strings.ToValidUTF8(f, "\uFFFD")
		}
		f = b
	}
	return collapse(f)
}

// collapse trims f and turns each run of white space in it into one space.
// The result never shares memory with f, a slice of the reused record.
func collapse(f string) string {
	clean := true
	for i := 0; i < len(f); i++ {
		c := f[i]
		if c == ' ' && (i == 0 || i == len(f)-1 || f[i+1] == ' ') || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f' || c >= utf8.RuneSelf {
			clean = false
			break
		}
	}
	if clean {
		return strings.Clone(f)
	}
	return strings.Clone(strings.Join(strings.Fields(f), " "))
}

// Establishment is the row Scan read.
func (s *Scanner) Establishment() Establishment { return s.est }

// Warnings are the malformed rows skipped so far.
func (s *Scanner) Warnings() []Warning { return s.warnings }

// Rows is the number of rows read so far, malformed ones included.
func (s *Scanner) Rows() int { return s.rows }

// Err is the read error that stopped Scan, if any.
func (s *Scanner) Err() error { return s.err }

// Encoding says how the text of the rows read so far was encoded: ASCII,
// UTF8, Windows1252 or Mixed.
func (s *Scanner) Encoding() string {
	switch {
	case s.utf8 && s.cp1252:
		return Mixed
	case s.cp1252:
		return Windows1252
	case s.utf8:
		return UTF8
	}
	return ASCII
}
