package watchers

import (
	"bytes"
)

// capEntries cuts an RSS, RDF or Atom document after its max-th entry
// (item or entry element, at any depth, not inside another) and closes the
// elements still open there, so the parser builds at most max items. It
// returns the document unchanged when it holds no more than max entries,
// and how many entries it holds (0 when it did not need to count: a
// document with no more than max '<' cannot hold more than max entries).
//
// This is a streaming pass over the raw bytes that allocates nothing per
// element: it skips comments, CDATA sections, processing instructions,
// declarations and quoted attribute values, and tracks only the names of
// the open elements. It does not validate; on a document it cannot follow
// (an unterminated tag, say) it stops counting and leaves the rest to the
// parser, which fails on it or recovers what it can, and whose item count
// is capped again.
func capEntries(doc []byte, max int) (out []byte, entries int) {
	if max <= 0 || bytes.Count(doc, []byte{'<'}) <= max {
		return doc, 0
	}
	var stack [][]byte // names of the open elements (slices of doc)
	entryDepth := -1   // len(stack) when the current top-level entry opened
	cut := -1
	var open [][]byte // the elements open at cut
	n := 0
	counted := func(at int) {
		n++
		if n == max {
			cut = at
			open = append([][]byte(nil), stack...)
		}
	}
	i := 0
scan:
	for {
		j := bytes.IndexByte(doc[i:], '<')
		if j < 0 {
			break
		}
		i += j
		rest := doc[i:]
		var skip int // bytes from i to the end of this markup, or -1
		switch {
		case bytes.HasPrefix(rest, []byte("<!--")):
			skip = after(rest, 4, "-->")
		case bytes.HasPrefix(rest, []byte("<![CDATA[")):
			skip = after(rest, 9, "]]>")
		case bytes.HasPrefix(rest, []byte("<?")):
			skip = after(rest, 2, "?>")
		case bytes.HasPrefix(rest, []byte("<!")):
			skip = declEnd(rest)
		case bytes.HasPrefix(rest, []byte("</")):
			skip = after(rest, 2, ">")
			if skip < 0 {
				break scan
			}
			if len(stack) > 0 {
				stack = stack[:len(stack)-1]
			}
			if len(stack) == entryDepth {
				entryDepth = -1
				counted(i + skip)
			}
		default:
			name, k, selfClosing := startTag(rest)
			if k < 0 {
				break scan
			}
			skip = k
			isEntry := entryDepth < 0 && isEntryName(name)
			switch {
			case selfClosing && isEntry:
				counted(i + skip)
			case !selfClosing:
				if isEntry {
					entryDepth = len(stack)
				}
				stack = append(stack, name)
			}
		}
		if skip < 0 {
			break
		}
		i += skip
	}
	if n <= max || cut < 0 {
		return doc, n
	}
	size := cut
	for _, name := range open {
		size += len(name) + 3
	}
	out = make([]byte, 0, size)
	out = append(out, doc[:cut]...)
	for k := len(open) - 1; k >= 0; k-- {
		out = append(out, "</"...)
		out = append(out, open[k]...)
		out = append(out, '>')
	}
	return out, n
}

// after returns the length of b up to and including the first end after
// offset from, or -1.
func after(b []byte, from int, end string) int {
	k := bytes.Index(b[from:], []byte(end))
	if k < 0 {
		return -1
	}
	return from + k + len(end)
}

// declEnd returns the length of a declaration such as <!DOCTYPE ...>,
// which may hold an internal subset in brackets and quoted strings, or -1.
func declEnd(b []byte) int {
	depth := 0
	var quote byte
	for k := 2; k < len(b); k++ {
		c := b[k]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '"' || c == '\'':
			quote = c
		case c == '[':
			depth++
		case c == ']':
			depth--
		case c == '>' && depth <= 0:
			return k + 1
		}
	}
	return -1
}

// startTag reads the start tag at the beginning of b: its name, its length
// up to and including '>' (-1 if it does not end), and whether it closes
// itself.
func startTag(b []byte) (name []byte, n int, selfClosing bool) {
	k := 1
names:
	for ; k < len(b); k++ {
		switch b[k] {
		case ' ', '\t', '\r', '\n', '/', '>':
			break names
		}
	}
	name = b[1:k]
	var quote byte
	for ; k < len(b); k++ {
		c := b[k]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '"' || c == '\'':
			quote = c
		case c == '>':
			return name, k + 1, b[k-1] == '/'
		}
	}
	return nil, -1, false
}

// isEntryName reports whether an element name is an RSS item or an Atom
// entry, with any namespace prefix and in any case (gofeed's parsers fold
// case).
func isEntryName(name []byte) bool {
	if k := bytes.LastIndexByte(name, ':'); k >= 0 {
		name = name[k+1:]
	}
	return bytes.EqualFold(name, []byte("item")) || bytes.EqualFold(name, []byte("entry"))
}
