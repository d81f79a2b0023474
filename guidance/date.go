package guidance

import (
	"fmt"
	"strings"
	"time"
)

// Date is a calendar day written as 2006-01-02: the day a contact was
// verified. Decoding never fails: a malformed value is kept, and Err says
// what is wrong, so that config validation can report it at its line
// together with the config's other problems.
type Date struct {
	time.Time
	raw string
	err error
}

// UnmarshalText implements encoding.TextUnmarshaler.
func (d *Date) UnmarshalText(b []byte) error {
	d.raw = strings.TrimSpace(string(b))
	d.Time, d.err = time.Parse(time.DateOnly, d.raw)
	if d.err != nil {
		// YAML timestamps may arrive in RFC 3339 form.
		if t, err := time.Parse(time.RFC3339, d.raw); err == nil {
			d.Time, d.err = t, nil
		}
	}
	if d.err != nil {
		d.Time = time.Time{}
		d.err = fmt.Errorf("invalid date %q (use YYYY-MM-DD)", d.raw)
	}
	return nil
}

// MarshalText implements encoding.TextMarshaler.
func (d Date) MarshalText() ([]byte, error) {
	if d.IsZero() {
		return nil, nil
	}
	return []byte(d.Format(time.DateOnly)), nil
}

// Err is why the date did not parse, or nil.
func (d Date) Err() error { return d.err }
