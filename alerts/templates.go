package alerts

import (
	"embed"
	"fmt"
	htmltemplate "html/template"
	"strings"
	texttemplate "text/template"
	"unicode/utf8"
)

//go:embed templates
var templateFS embed.FS

// The bodies of the mails alerts writes: alerts and digests, operator
// notices, heartbeats.
var (
	alertMail     = parseTemplates("mail")
	noticeMail    = parseTemplates("notice")
	heartbeatMail = parseTemplates("heartbeat")
)

// templateFuncs are available in every mail template.
var templateFuncs = map[string]any{
	"join":  strings.Join,
	"upper": strings.ToUpper,
	"inc":   func(i int) int { return i + 1 },
	// wrap wraps s at textWidth columns: first prefixes its first line,
	// rest the others.
	"wrap": func(s, first, rest string) string { return wrapText(s, textWidth, first, rest) },
	// short is the start of a hex digest, as shown beside a file name.
	"short": func(sum string) string { return sum[:min(12, len(sum))] },
	"more": func(n int) string {
		switch n {
		case 0:
			return ""
		case 1:
			return " and 1 more post like it"
		}
		return fmt.Sprintf(" and %d more posts like it", n)
	},
	"possibly": func(b bool) string {
		if b {
			return " (the learned model's reading: read the post first)"
		}
		return ""
	},
	"advice": func(refs []sectionRef) string {
		q := make([]string, len(refs))
		for i, r := range refs {
			q[i] = "“" + r.Title + "”"
		}
		if len(q) <= 1 {
			return strings.Join(q, "") + " below."
		}
		return strings.Join(q[:len(q)-1], ", ") + " below, then " + q[len(q)-1] + "."
	},
}

// templates are a mail's plain-text and HTML bodies.
type templates struct {
	text *texttemplate.Template
	html *htmltemplate.Template
}

// parseTemplates parses templates/name.txt.tmpl, and name.html.tmpl with
// the head every HTML mail shares (layout.html.tmpl).
func parseTemplates(name string) templates {
	return templates{
		text: texttemplate.Must(texttemplate.New(name+".txt.tmpl").Funcs(templateFuncs).ParseFS(templateFS, "templates/"+name+".txt.tmpl")),
		html: htmltemplate.Must(htmltemplate.New(name+".html.tmpl").Funcs(templateFuncs).ParseFS(templateFS, "templates/"+name+".html.tmpl", "templates/layout.html.tmpl")),
	}
}

// execute renders both bodies with data.
func (t templates) execute(data any) (text, html string, err error) {
	var tb, hb strings.Builder
	if err := t.text.Execute(&tb, data); err != nil {
		return "", "", err
	}
	if err := t.html.Execute(&hb, data); err != nil {
		return "", "", err
	}
	return tb.String(), hb.String(), nil
}

// textWidth is the width of wrapped lines in the plain-text parts.
const textWidth = 76

// wrapText wraps s at width columns (counting characters): first prefixes
// the first line, rest every other. A word longer than a line gets a line
// of its own. The result has no final newline.
func wrapText(s string, width int, first, rest string) string {
	var b strings.Builder
	prefix := first
	n := 0 // characters on the current line after its prefix
	for _, w := range strings.Fields(s) {
		wl := utf8.RuneCountInString(w)
		switch {
		case n == 0:
			b.WriteString(prefix + w)
			n = wl
		case utf8.RuneCountInString(prefix)+n+1+wl > width:
			prefix = rest
			b.WriteString("\n" + prefix + w)
			n = wl
		default:
			b.WriteString(" " + w)
			n += 1 + wl
		}
	}
	if n == 0 {
		return strings.TrimRight(first, " ")
	}
	return b.String()
}
