package gias

import (
	"bufio"
	"encoding/json"
	"io"
	"strings"
)

// Write writes schools as a schools_file: a YAML document with a top-level
// schools: list, each school after a comment with its type, phase, status
// and local authority from the register. header, if not empty, is written
// first as comment lines. Every string is written double-quoted, so no
// name can change meaning as YAML ("Yes", "0123", "#1 Academy").
func Write(w io.Writer, header string, schools []School) error {
	bw := bufio.NewWriter(w)
	for line := range strings.Lines(header) {
		bw.WriteString(strings.TrimRight("# "+strings.TrimRight(line, "\r\n"), " ") + "\n")
	}
	if len(schools) == 0 {
		bw.WriteString("schools: []\n")
		return bw.Flush()
	}
	bw.WriteString("schools:\n")
	for _, s := range schools {
		var about []string
		for _, v := range []string{s.From.Type, s.From.Phase, s.From.Status, s.From.LA} {
			if v != "" && !strings.EqualFold(v, "Not applicable") {
				about = append(about, v)
			}
		}
		if len(about) > 0 {
			bw.WriteString("  # " + oneLine(strings.Join(about, " · ")) + "\n")
		}
		bw.WriteString("  - id: " + quote(s.ID) + "\n")
		field(bw, "name", s.Name)
		field(bw, "short_name", s.ShortName)
		field(bw, "town", s.Town)
		list(bw, "aliases", s.Aliases)
		list(bw, "hashtags", s.Hashtags)
		list(bw, "domains", s.Domains)
		list(bw, "context", s.Context)
		if len(s.Leaders) > 0 {
			bw.WriteString("    leaders:\n")
			for _, l := range s.Leaders {
				bw.WriteString("      - {")
				if l.Name != "" {
					bw.WriteString(" name: " + quote(l.Name) + ",")
				}
				bw.WriteString(" email: " + quote(l.Email) + ", roles: [" + strings.Join(l.Roles, ", ") + "]")
				if l.DigestOnly {
					bw.WriteString(", digest_only: true")
				}
				if l.Heartbeat != nil && !*l.Heartbeat {
					bw.WriteString(", heartbeat: false")
				}
				bw.WriteString(" }\n")
			}
		}
		if s.Paused {
			bw.WriteString("    paused: true\n")
		}
	}
	return bw.Flush()
}

func field(w *bufio.Writer, key, v string) {
	if v != "" {
		w.WriteString("    " + key + ": " + quote(v) + "\n")
	}
}

func list(w *bufio.Writer, key string, vs []string) {
	if len(vs) == 0 {
		return
	}
	w.WriteString("    " + key + ": [")
	for i, v := range vs {
		if i > 0 {
			w.WriteString(", ")
		}
		w.WriteString(quote(v))
	}
	w.WriteString("]\n")
}

// quote writes s as a YAML double-quoted scalar: JSON's string syntax is
// a subset of it.
func quote(s string) string {
	var b strings.Builder
	e := json.NewEncoder(&b)
	e.SetEscapeHTML(false)
	e.Encode(s)
	return strings.TrimSuffix(b.String(), "\n")
}

// oneLine keeps a comment on its line.
func oneLine(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '\n' || r == '\r' || r == '\u2028' || r == '\u2029' || r == '\u0085' {
			return ' '
		}
		return r
	}, s)
}
