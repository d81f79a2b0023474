package rules

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// lexeme kinds
type lexKind int

const (
	lexEOF lexKind = iota
	lexWord
	lexPhrase
	lexLParen
	lexRParen
	lexAnd
	lexOr
	lexNot
	lexNear
	lexList // @name: a named term list
)

type lexeme struct {
	kind lexKind
	text string // raw word or phrase body
	n    int    // NEAR distance
	col  int
}

// lex splits a query into lexemes. Operators are upper case only, so a
// lower-case "or" or "not" inside a rule is an ordinary word.
func lex(src string) ([]lexeme, error) {
	var out []lexeme
	col := 1
	i := 0
	for i < len(src) {
		r, size := utf8.DecodeRuneInString(src[i:])
		switch {
		case unicode.IsSpace(r):
			i += size
			col++
		case r == '(':
			out = append(out, lexeme{kind: lexLParen, col: col})
			i++
			col++
		case r == ')':
			out = append(out, lexeme{kind: lexRParen, col: col})
			i++
			col++
		case r == '"' || r == '“' || r == '”':
			start := col
			i += size
			col++
			j := i
			for j < len(src) {
				r2, s2 := utf8.DecodeRuneInString(src[j:])
				if r2 == '"' || r2 == '“' || r2 == '”' {
					break
				}
				j += s2
			}
			if j >= len(src) {
				return nil, &SyntaxError{start, `unterminated phrase: missing closing '"'`}
			}
			body := src[i:j]
			out = append(out, lexeme{kind: lexPhrase, text: body, col: start})
			col += utf8.RuneCountInString(body) + 1
			_, s2 := utf8.DecodeRuneInString(src[j:])
			i = j + s2
		default:
			start := col
			j := i
			for j < len(src) {
				r2, s2 := utf8.DecodeRuneInString(src[j:])
				if unicode.IsSpace(r2) || r2 == '(' || r2 == ')' || r2 == '"' || r2 == '“' || r2 == '”' {
					break
				}
				j += s2
			}
			w := src[i:j]
			col += utf8.RuneCountInString(w)
			i = j
			lx := lexeme{kind: lexWord, text: w, col: start}
			switch {
			case len(w) > 1 && w[0] == '@' && !strings.HasSuffix(w, "*"):
				lx.kind = lexList
				lx.text = w[1:]
			case w == "AND":
				lx.kind = lexAnd
			case w == "OR":
				lx.kind = lexOr
			case w == "NOT":
				lx.kind = lexNot
			case w == "NEAR" || strings.HasPrefix(w, "NEAR/"):
				lx.kind = lexNear
				ns, ok := strings.CutPrefix(w, "NEAR/")
				if !ok {
					return nil, &SyntaxError{start, "NEAR needs a distance, as in NEAR/5"}
				}
				n, err := strconv.Atoi(ns)
				if err != nil || n < 0 || n > MaxNear {
					return nil, &SyntaxError{start, fmt.Sprintf("NEAR distance %q is not a whole number from 0 to %d", ns, MaxNear)}
				}
				lx.n = n
			}
			out = append(out, lx)
		}
	}
	out = append(out, lexeme{kind: lexEOF, col: col})
	return out, nil
}
