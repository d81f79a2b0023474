package guidance

import (
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/text"
)

// Related returns the sections that s refers to by title in its body
// (written in italics, as in "see *Getting content removed*"), in the order
// they first appear. An alert can list them so a reader can look them up
// with `schoolwatch guidance ID`.
func (p *Pack) Related(s *Section) []*Section {
	byTitle := map[string]*Section{}
	for _, o := range p.sections {
		byTitle[o.Title] = o
	}
	var out []*Section
	seen := map[string]bool{s.ID: true}
	for _, t := range emphasised(s.Markdown) {
		if o, ok := byTitle[t]; ok && !seen[o.ID] {
			seen[o.ID] = true
			out = append(out, o)
		}
	}
	return out
}

// emphasised returns the text of every single-emphasis span in md.
func emphasised(md string) []string {
	src := []byte(md)
	doc := markdown.Parser().Parse(text.NewReader(src))
	r := &textRenderer{src: src}
	var out []string
	_ = ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if e, ok := n.(*ast.Emphasis); ok && entering && e.Level == 1 {
			out = append(out, r.inline(e))
			return ast.WalkSkipChildren, nil
		}
		return ast.WalkContinue, nil
	})
	return out
}
