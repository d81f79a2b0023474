package config

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Duration is a time.Duration written as "90s", "15m", "72h" or "7d".
// Decoding never fails: a malformed value is kept and reported by
// validation, so one bad duration does not hide the config's other problems.
type Duration struct {
	time.Duration
	// Set reports whether the key was present (so "0" can mean "off").
	Set bool
	raw string
	err error
}

// D returns a set Duration of d, for defaults and tests.
func D(d time.Duration) Duration { return Duration{Duration: d, Set: true} }

// UnmarshalText implements encoding.TextUnmarshaler.
func (d *Duration) UnmarshalText(b []byte) error {
	d.raw = strings.TrimSpace(string(b))
	d.Set = true
	d.Duration, d.err = parseDuration(d.raw)
	return nil
}

// MarshalText implements encoding.TextMarshaler.
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.Duration.String()), nil }

func parseDuration(s string) (time.Duration, error) {
	if s == "" {
		return 0, fmt.Errorf("empty duration")
	}
	if s == "0" {
		return 0, nil
	}
	for _, unit := range []struct {
		suffix string
		d      time.Duration
	}{{"d", 24 * time.Hour}, {"w", 7 * 24 * time.Hour}} {
		if n, ok := strings.CutSuffix(s, unit.suffix); ok {
			v, err := strconv.ParseFloat(n, 64)
			if err != nil || v < 0 {
				return 0, fmt.Errorf("invalid duration %q (use e.g. 90s, 15m, 72h, 7d)", s)
			}
			return time.Duration(v * float64(unit.d)), nil
		}
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("invalid duration %q (use e.g. 90s, 15m, 72h, 7d)", s)
	}
	if v < 0 {
		return 0, fmt.Errorf("negative duration %q", s)
	}
	return v, nil
}
