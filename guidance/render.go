package guidance

import (
	"bytes"
	"html/template"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/extension"
	"github.com/yuin/goldmark/parser"
	"github.com/yuin/goldmark/text"
	"github.com/yuin/goldmark/util"
)

// textWidth is where Text wraps lines: readable in a terminal and in mail
// clients that show text/plain parts as they are.
const textWidth = 72

// markdown parses and renders section bodies. Raw HTML is never passed
// through (goldmark's default) and linkFilter strips it from the tree, so
// neither rendering shows it.
var markdown = goldmark.New(
	goldmark.WithExtensions(extension.Linkify),
	goldmark.WithParserOptions(parser.WithASTTransformers(util.Prioritized(linkFilter{}, 1000))),
)

// allowedSchemes are the only link targets kept; any other link becomes its
// label.
var allowedSchemes = []string{"http:", "https:", "mailto:", "tel:"}

func allowedURL(u []byte) bool {
	s := strings.ToLower(strings.TrimSpace(string(u)))
	for _, p := range allowedSchemes {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}

// linkFilter removes raw HTML and turns links with other schemes (javascript:,
// data:, relative paths) and images into plain text.
type linkFilter struct{}

func (linkFilter) Transform(doc *ast.Document, reader text.Reader, _ parser.Context) {
	src := reader.Source()
	var remove, unwrap []ast.Node
	_ = ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			return ast.WalkContinue, nil
		}
		switch n := n.(type) {
		case *ast.RawHTML, *ast.HTMLBlock:
			remove = append(remove, n)
			return ast.WalkSkipChildren, nil
		case *ast.Link:
			if !allowedURL(n.Destination) {
				unwrap = append(unwrap, n)
			}
		case *ast.Image:
			unwrap = append(unwrap, n)
		case *ast.AutoLink:
			if n.AutoLinkType == ast.AutoLinkURL && !allowedURL(n.URL(src)) {
				t := ast.NewString(n.Label(src))
				n.Parent().ReplaceChild(n.Parent(), n, t)
			}
		}
		return ast.WalkContinue, nil
	})
	for _, n := range remove {
		n.Parent().RemoveChild(n.Parent(), n)
	}
	for _, n := range unwrap {
		parent := n.Parent()
		for c := n.FirstChild(); c != nil; {
			next := c.NextSibling()
			parent.InsertBefore(parent, n, c)
			c = next
		}
		parent.RemoveChild(parent, n)
	}
}

// HTML renders the section body as HTML that is safe to put in a mail: no raw
// HTML, and links only to http, https, mailto and tel addresses.
func (s *Section) HTML() template.HTML {
	return renderHTML(s.Markdown)
}

func renderHTML(md string) template.HTML {
	var buf bytes.Buffer
	if err := markdown.Convert([]byte(md), &buf); err != nil {
		// Rendering into a buffer cannot fail; keep the advice readable anyway.
		return template.HTML("<pre>" + template.HTMLEscapeString(md) + "</pre>")
	}
	return template.HTML(buf.String())
}

// Text renders the section body as plain text wrapped at 72 columns, for
// text/plain mail parts and the terminal. Headings are underlined, lists keep
// their bullets and numbers, and links show their address in brackets.
func (s *Section) Text() string {
	return renderText(s.Markdown)
}

func renderText(md string) string {
	src := []byte(md)
	doc := markdown.Parser().Parse(text.NewReader(src))
	r := &textRenderer{src: src}
	r.blocks(doc, "", "")
	return strings.TrimRight(r.out.String(), "\n") + "\n"
}

type textRenderer struct {
	src []byte
	out strings.Builder
}

// blocks writes the block children of n. first prefixes the first line
// written, rest every later one (so list items hang under their bullet).
func (r *textRenderer) blocks(n ast.Node, first, rest string) {
	for c := n.FirstChild(); c != nil; c = c.NextSibling() {
		if c != n.FirstChild() {
			r.blankLine(c)
		}
		r.block(c, first, rest)
		first = rest
	}
}

// blankLine separates blocks, except within and between the items of a
// tight list.
func (r *textRenderer) blankLine(n ast.Node) {
	switch parent := n.Parent().(type) {
	case *ast.List:
		if parent.IsTight {
			return
		}
	case *ast.ListItem:
		if l, ok := parent.Parent().(*ast.List); ok && l.IsTight {
			return
		}
	}
	r.out.WriteString("\n")
}

func (r *textRenderer) block(n ast.Node, first, rest string) {
	switch n := n.(type) {
	case *ast.Heading:
		t := r.inline(n)
		mark := "-"
		if n.Level == 1 {
			mark = "="
		}
		if n.Level > 2 {
			r.out.WriteString(first + t + "\n")
			return
		}
		r.out.WriteString(first + t + "\n" + rest + strings.Repeat(mark, utf8.RuneCountInString(t)) + "\n")
	case *ast.Paragraph, *ast.TextBlock:
		r.wrap(r.inline(n), first, rest)
	case *ast.List:
		num := n.Start
		for item := n.FirstChild(); item != nil; item = item.NextSibling() {
			if item != n.FirstChild() {
				r.blankLine(item)
			}
			bullet := "- "
			if n.IsOrdered() {
				bullet = strconv.Itoa(num) + ". "
				num++
			}
			pad := strings.Repeat(" ", len(bullet))
			r.blocks(item, first+bullet, rest+pad)
			first = rest
		}
	case *ast.Blockquote:
		r.blocks(n, first+"> ", rest+"> ")
	case *ast.FencedCodeBlock, *ast.CodeBlock:
		lines := n.Lines()
		for i := 0; i < lines.Len(); i++ {
			seg := lines.At(i)
			p := rest
			if i == 0 {
				p = first
			}
			r.out.WriteString(p + "    " + strings.TrimRight(string(seg.Value(r.src)), "\n") + "\n")
		}
	case *ast.ThematicBreak:
		r.out.WriteString(first + "----\n")
	default:
		r.blocks(n, first, rest)
	}
}

// inline flattens the inline children of n to one string.
func (r *textRenderer) inline(n ast.Node) string {
	var b strings.Builder
	var walk func(ast.Node)
	walk = func(n ast.Node) {
		for c := n.FirstChild(); c != nil; c = c.NextSibling() {
			switch c := c.(type) {
			case *ast.Text:
				b.Write(c.Segment.Value(r.src))
				switch {
				case c.HardLineBreak():
					b.WriteString("\n")
				case c.SoftLineBreak():
					b.WriteString(" ")
				}
			case *ast.String:
				b.Write(c.Value)
			case *ast.CodeSpan:
				walk(c)
			case *ast.Emphasis:
				// Italics mark titles (of sections and documents); quotes
				// keep that visible in plain text.
				if c.Level == 1 {
					b.WriteString(`"`)
					walk(c)
					b.WriteString(`"`)
				} else {
					walk(c)
				}
			case *ast.AutoLink:
				b.Write(c.Label(r.src))
			case *ast.Link:
				label := r.inline(c)
				dest := string(c.Destination)
				b.WriteString(label)
				if d := strings.TrimPrefix(strings.TrimPrefix(dest, "mailto:"), "tel:"); d != label {
					b.WriteString(" (" + dest + ")")
				}
			default:
				walk(c)
			}
		}
	}
	walk(n)
	return b.String()
}

// wrap writes s word-wrapped to textWidth, keeping hard line breaks.
func (r *textRenderer) wrap(s, first, rest string) {
	wrapText(&r.out, s, first, rest)
}

// wrapText writes s to out word-wrapped to textWidth; first prefixes the
// first line and rest the others.
func wrapText(out *strings.Builder, s, first, rest string) {
	prefix := first
	for _, para := range strings.Split(s, "\n") {
		line := prefix
		width := utf8.RuneCountInString(prefix)
		empty := true
		for _, w := range strings.Fields(para) {
			n := utf8.RuneCountInString(w)
			if !empty && width+1+n > textWidth {
				out.WriteString(line + "\n")
				line, width, empty = rest, utf8.RuneCountInString(rest), true
			}
			if !empty {
				line += " "
				width++
			}
			line += w
			width += n
			empty = false
		}
		out.WriteString(line + "\n")
		prefix = rest
	}
}
