package alerts

import (
	"embed"
	htmltemplate "html/template"
	"strings"
	texttemplate "text/template"
)

//go:embed templates
var templateFS embed.FS

// The bodies of the mails alerts writes: alerts and digests, operator
// notices, heartbeats.
var (
	alertMail     = parseTemplates("mail", nil)
	noticeMail    = parseTemplates("notice", nil)
	heartbeatMail = parseTemplates("heartbeat", map[string]any{"join": strings.Join})
)

// templates are a mail's plain-text and HTML bodies.
type templates struct {
	text *texttemplate.Template
	html *htmltemplate.Template
}

// parseTemplates parses templates/name.txt.tmpl and name.html.tmpl.
func parseTemplates(name string, funcs map[string]any) templates {
	return templates{
		text: texttemplate.Must(texttemplate.New(name+".txt.tmpl").Funcs(funcs).ParseFS(templateFS, "templates/"+name+".txt.tmpl")),
		html: htmltemplate.Must(htmltemplate.New(name+".html.tmpl").Funcs(funcs).ParseFS(templateFS, "templates/"+name+".html.tmpl")),
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
