package config

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
	"text/template"
	"text/template/parse"
)

// FeedVars are what a per_school feed URL template may use, each
// URL-escaped: {{ .Query }} and {{ .Name }} (the official name), {{ .ID }},
// {{ .Town }}, {{ .Short }} (short_name, or the name when unset),
// {{ .Domain }} (the first of domains) and {{ .Hashtag }} (one of hashtags,
// without its #: the template gives one feed per hashtag).
type FeedVars struct {
	Query, Name, ID, Town, Short, Domain, Hashtag string
}

// FeedTemplate is a per_school feed URL, parsed once for every school.
type FeedTemplate struct {
	t    *template.Template
	uses map[string]bool // the FeedVars fields the template names
}

// ParseFeedTemplate parses a per_school feed URL template.
func ParseFeedTemplate(tmpl string) (*FeedTemplate, error) {
	t, err := template.New("url").Option("missingkey=error").Parse(tmpl)
	if err != nil {
		return nil, fmt.Errorf("bad URL template: %v", err)
	}
	ft := &FeedTemplate{t: t, uses: map[string]bool{}}
	if t.Tree != nil {
		fields(t.Tree.Root, ft.uses)
	}
	return ft, nil
}

// Uses reports whether the template names the FeedVars field name, such
// as "Domain".
func (ft *FeedTemplate) Uses(name string) bool { return ft.uses[name] }

// A TemplateURL is one URL a per_school template gives for a school.
type TemplateURL struct {
	URL string
	// Hashtag is the hashtag it was made for (without #), "" unless the
	// template uses {{ .Hashtag }}.
	Hashtag string
}

// URLs returns the school's URLs from the template: one, or one per
// hashtag when the template uses {{ .Hashtag }}. A school that lacks what
// the template needs (a domain for {{ .Domain }}, hashtags for
// {{ .Hashtag }}) gets none.
func (ft *FeedTemplate) URLs(s School) ([]TemplateURL, error) {
	v := FeedVars{
		Query: url.QueryEscape(s.Name), Name: url.QueryEscape(s.Name), ID: url.QueryEscape(s.ID),
		Town: url.QueryEscape(s.Town), Short: url.QueryEscape(s.Short()),
	}
	if len(s.Domains) > 0 {
		v.Domain = url.QueryEscape(bareDomain(s.Domains[0]))
	}
	if ft.uses["Domain"] && v.Domain == "" {
		return nil, nil
	}
	if !ft.uses["Hashtag"] {
		u, err := ft.execute(v)
		if err != nil {
			return nil, err
		}
		return []TemplateURL{{URL: u}}, nil
	}
	var out []TemplateURL
	for _, h := range s.Hashtags {
		tag := strings.TrimSpace(strings.TrimLeft(strings.TrimSpace(h), "#"))
		if tag == "" || slices.ContainsFunc(out, func(f TemplateURL) bool { return strings.EqualFold(f.Hashtag, tag) }) {
			continue
		}
		v.Hashtag = url.QueryEscape(tag)
		u, err := ft.execute(v)
		if err != nil {
			return nil, err
		}
		out = append(out, TemplateURL{URL: u, Hashtag: tag})
	}
	return out, nil
}

func (ft *FeedTemplate) execute(v FeedVars) (string, error) {
	var b strings.Builder
	if err := ft.t.Execute(&b, v); err != nil {
		return "", fmt.Errorf("bad URL template: %v", err)
	}
	u, err := url.Parse(b.String())
	if err != nil || (u.Scheme != "http" && u.Scheme != "https" && u.Scheme != "file") {
		return "", fmt.Errorf("URL template does not give an http(s) or file URL: %q", b.String())
	}
	return b.String(), nil
}

// FeedURL expands a per_school feed URL template for one school: its first
// URL, or "" when the school has none (see FeedTemplate.URLs).
func FeedURL(tmpl string, s School) (string, error) {
	ft, err := ParseFeedTemplate(tmpl)
	if err != nil {
		return "", err
	}
	us, err := ft.URLs(s)
	if err != nil || len(us) == 0 {
		return "", err
	}
	return us[0].URL, nil
}

// Short is the school's short name, or its name when it has none.
func (s School) Short() string {
	if strings.TrimSpace(s.ShortName) != "" {
		return s.ShortName
	}
	return s.Name
}

// bareDomain is a configured domain without a leading "www.".
func bareDomain(d string) string {
	return strings.TrimPrefix(strings.ToLower(strings.TrimSpace(d)), "www.")
}

// fields adds to uses the names of the fields that the template nodes
// under n refer to ({{ .Domain }}, {{ $.Domain }}, {{ if .Hashtag }}).
func fields(n parse.Node, uses map[string]bool) {
	switch n := n.(type) {
	case *parse.ListNode:
		if n != nil {
			for _, c := range n.Nodes {
				fields(c, uses)
			}
		}
	case *parse.ActionNode:
		fields(n.Pipe, uses)
	case *parse.PipeNode:
		if n != nil {
			for _, c := range n.Cmds {
				fields(c, uses)
			}
		}
	case *parse.CommandNode:
		for _, a := range n.Args {
			fields(a, uses)
		}
	case *parse.FieldNode:
		uses[n.Ident[0]] = true
	case *parse.VariableNode:
		if len(n.Ident) > 1 && n.Ident[0] == "$" {
			uses[n.Ident[1]] = true
		}
	case *parse.ChainNode:
		fields(n.Node, uses)
	case *parse.IfNode:
		fields(&n.BranchNode, uses)
	case *parse.RangeNode:
		fields(&n.BranchNode, uses)
	case *parse.WithNode:
		fields(&n.BranchNode, uses)
	case *parse.BranchNode:
		fields(n.Pipe, uses)
		fields(n.List, uses)
		if n.ElseList != nil {
			fields(n.ElseList, uses)
		}
	case *parse.TemplateNode:
		fields(n.Pipe, uses)
	}
}
