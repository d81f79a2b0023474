package rules

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Op is the kind of a query node.
type Op int

// Query node kinds. Precedence, tightest first: NOT, NEAR, AND (written or
// implied by juxtaposition), OR.
const (
	OpTerm Op = iota // a word, prefix* or "phrase"
	OpAnd
	OpOr
	OpNot
	OpNear
)

// Query is a parsed rule query: the root of its syntax tree.
type Query struct {
	Op   Op
	Term Term     // for OpTerm
	Kids []*Query // operands: two or more for AND/OR, one for NOT, two for NEAR
	N    int      // NEAR distance: at most N words between the operands
	Col  int      // 1-based column (in runes) where the node starts, for messages
	// List names the term list an OR node was expanded from (@staff), so
	// the query prints and explains as written.
	List string
}

// TermLists are named lists of words and phrases that queries refer to as
// @name. An entry is a word, a word* prefix, or several words (a phrase).
type TermLists map[string][]string

// Term is a word, a prefix or a phrase: a sequence of normalised words that
// must appear consecutively. The last word (or any word of a phrase) may be
// a prefix.
type Term struct {
	Words  []string // normalised
	Prefix []bool   // Prefix[i]: Words[i] matches any word starting with it
	Text   string   // as shown to users: stab*, "going to hurt"
	// Forms[i], when set, are the other inflected forms Words[i] also
	// matches (knife: knives; stab: stabs, stabbed, stabbing).
	Forms [][]string
}

// MaxNear is the largest distance NEAR/n accepts.
const MaxNear = 1000

// minPrefix is the shortest prefix accepted before '*', so that "a*" cannot
// make a rule fire on nearly every item.
const minPrefix = 2

// SyntaxError is a query problem at a column.
type SyntaxError struct {
	Col int // 1-based, in runes
	Msg string
}

func (e *SyntaxError) Error() string { return fmt.Sprintf("col %d: %s", e.Col, e.Msg) }

// String renders q in canonical form, fully parenthesised where precedence
// would otherwise matter, so that parsing the result gives the same tree.
func (q *Query) String() string {
	var b strings.Builder
	q.write(&b)
	return b.String()
}

func (q *Query) write(b *strings.Builder) {
	if q.List != "" {
		b.WriteString("@" + q.List)
		return
	}
	switch q.Op {
	case OpTerm:
		b.WriteString(q.Term.Text)
	case OpNot:
		b.WriteString("NOT ")
		q.Kids[0].writeOperand(b)
	case OpAnd, OpOr, OpNear:
		sep := " AND "
		if q.Op == OpOr {
			sep = " OR "
		} else if q.Op == OpNear {
			sep = " NEAR/" + strconv.Itoa(q.N) + " "
		}
		for i, k := range q.Kids {
			if i > 0 {
				b.WriteString(sep)
			}
			k.writeOperand(b)
		}
	}
}

func (q *Query) writeOperand(b *strings.Builder) {
	if q.Op == OpTerm || q.Op == OpNot || q.List != "" {
		q.write(b)
		return
	}
	b.WriteByte('(')
	q.write(b)
	b.WriteByte(')')
}

// ParseQuery parses a rule query. Grammar, loosest first:
//
//	or   = and { "OR" and }
//	and  = near { ["AND"] near }        juxtaposition means AND
//	near = unary { "NEAR/n" unary }     at most n words between the operands
//	unary = "NOT" unary | primary
//	primary = word | word* | "phrase" | @list | "(" or ")"
//
// A NOT b therefore reads as A AND (NOT b). Words match whole normalised
// words; word* matches words starting with word. Errors are *SyntaxError
// values that give the column.
func ParseQuery(src string) (*Query, error) { return ParseQueryLists(src, nil) }

// ParseQueryLists is ParseQuery with named term lists: @name in the query
// stands for any entry of lists[name]. An unknown list is a *SyntaxError at
// its column.
func ParseQueryLists(src string, lists TermLists) (*Query, error) {
	lx, err := lex(src)
	if err != nil {
		return nil, err
	}
	p := &parser{lx: lx, lists: lists}
	if p.peek().kind == lexEOF {
		return nil, &SyntaxError{1, "empty query"}
	}
	q, err := p.or()
	if err != nil {
		return nil, err
	}
	if t := p.peek(); t.kind != lexEOF {
		if t.kind == lexRParen {
			return nil, &SyntaxError{t.col, "unexpected ')' with no matching '('"}
		}
		return nil, &SyntaxError{t.col, "unexpected " + describe(t)}
	}
	if err := checkPositive(q); err != nil {
		return nil, err
	}
	return q, nil
}

type parser struct {
	lx    []lexeme
	pos   int
	lists TermLists
}

func (p *parser) peek() lexeme { return p.lx[p.pos] }
func (p *parser) next() lexeme { t := p.lx[p.pos]; p.pos++; return t }

func describe(t lexeme) string {
	switch t.kind {
	case lexEOF:
		return "end of query"
	case lexRParen:
		return "')'"
	case lexLParen:
		return "'('"
	case lexAnd:
		return "AND"
	case lexOr:
		return "OR"
	case lexNot:
		return "NOT"
	case lexNear:
		return "NEAR"
	case lexPhrase:
		return strconv.Quote(t.text)
	case lexList:
		return "@" + t.text
	}
	return strconv.Quote(t.text)
}

func (p *parser) or() (*Query, error) {
	left, err := p.and()
	if err != nil {
		return nil, err
	}
	if p.peek().kind != lexOr {
		return left, nil
	}
	q := &Query{Op: OpOr, Kids: []*Query{left}, Col: left.Col}
	for p.peek().kind == lexOr {
		p.next()
		right, err := p.and()
		if err != nil {
			return nil, err
		}
		q.Kids = append(q.Kids, right)
	}
	return q, nil
}

func startsOperand(k lexKind) bool {
	return k == lexWord || k == lexPhrase || k == lexList || k == lexLParen || k == lexNot
}

func (p *parser) and() (*Query, error) {
	left, err := p.near()
	if err != nil {
		return nil, err
	}
	q := &Query{Op: OpAnd, Kids: []*Query{left}, Col: left.Col}
	for {
		k := p.peek().kind
		if k == lexAnd {
			p.next()
		} else if !startsOperand(k) {
			break
		}
		right, err := p.near()
		if err != nil {
			return nil, err
		}
		q.Kids = append(q.Kids, right)
	}
	if len(q.Kids) == 1 {
		return left, nil
	}
	return q, nil
}

func (p *parser) near() (*Query, error) {
	left, err := p.unary()
	if err != nil {
		return nil, err
	}
	for p.peek().kind == lexNear {
		op := p.next()
		right, err := p.unary()
		if err != nil {
			return nil, err
		}
		left = &Query{Op: OpNear, Kids: []*Query{left, right}, N: op.n, Col: left.Col}
	}
	return left, nil
}

func (p *parser) unary() (*Query, error) {
	if t := p.peek(); t.kind == lexNot {
		p.next()
		kid, err := p.unary()
		if err != nil {
			return nil, err
		}
		return &Query{Op: OpNot, Kids: []*Query{kid}, Col: t.col}, nil
	}
	return p.primary()
}

func (p *parser) primary() (*Query, error) {
	t := p.next()
	switch t.kind {
	case lexWord, lexPhrase:
		term, err := makeTerm(t)
		if err != nil {
			return nil, err
		}
		return &Query{Op: OpTerm, Term: term, Col: t.col}, nil
	case lexList:
		return p.list(t)
	case lexLParen:
		q, err := p.or()
		if err != nil {
			return nil, err
		}
		if c := p.peek(); c.kind != lexRParen {
			return nil, &SyntaxError{c.col, fmt.Sprintf("expected ')' to close '(' at col %d, found %s", t.col, describe(c))}
		}
		p.next()
		return q, nil
	}
	prev := "start of query"
	if p.pos >= 2 {
		prev = describe(p.lx[p.pos-2])
	}
	return nil, &SyntaxError{t.col, fmt.Sprintf("expected a word, phrase or '(' after %s, found %s", prev, describe(t))}
}

// list expands @name into an OR of the list's entries.
func (p *parser) list(t lexeme) (*Query, error) {
	entries, ok := p.lists[t.text]
	if !ok {
		known := make([]string, 0, len(p.lists))
		for k := range p.lists {
			known = append(known, "@"+k)
		}
		slices.Sort(known)
		msg := fmt.Sprintf("unknown term list @%s", t.text)
		if len(known) > 0 {
			msg += " (known: " + strings.Join(known, ", ") + ")"
		}
		return nil, &SyntaxError{t.col, msg}
	}
	q := &Query{Op: OpOr, Col: t.col, List: t.text}
	for _, e := range entries {
		kind := lexWord
		if strings.Contains(strings.TrimSpace(e), " ") {
			kind = lexPhrase
		}
		term, err := makeTerm(lexeme{kind: kind, text: strings.TrimSpace(e), col: t.col})
		if err != nil {
			return nil, &SyntaxError{t.col, fmt.Sprintf("@%s: %s", t.text, err.(*SyntaxError).Msg)}
		}
		q.Kids = append(q.Kids, &Query{Op: OpTerm, Term: term, Col: t.col})
	}
	if len(q.Kids) == 0 {
		return nil, &SyntaxError{t.col, fmt.Sprintf("term list @%s is empty", t.text)}
	}
	if len(q.Kids) == 1 {
		q.Kids[0].List = t.text
		return q.Kids[0], nil
	}
	return q, nil
}

// makeTerm normalises a word or phrase lexeme. A '*' may only end a word;
// a word that normalises to several words ("self-harm") becomes a phrase.
func makeTerm(t lexeme) (Term, error) {
	var term Term
	fields := []string{t.text}
	if t.kind == lexPhrase {
		fields = strings.Fields(t.text)
		term.Text = `"` + strings.Join(fields, " ") + `"`
	} else {
		term.Text = t.text
	}
	for _, f := range fields {
		prefix := strings.HasSuffix(f, "*")
		body := strings.TrimSuffix(f, "*")
		if strings.Contains(body, "*") {
			return term, &SyntaxError{t.col, fmt.Sprintf("%q: '*' is only allowed at the end of a word", f)}
		}
		ws := normWords(body)
		if len(ws) == 0 {
			if t.kind == lexPhrase && len(fields) == 1 || t.kind == lexWord {
				return term, &SyntaxError{t.col, fmt.Sprintf("%q has no letters or digits", f)}
			}
			continue
		}
		for i, w := range ws {
			p := prefix && i == len(ws)-1
			if p && len(w) < minPrefix {
				return term, &SyntaxError{t.col, fmt.Sprintf("prefix %q is too short (at least %d letters before '*')", f, minPrefix)}
			}
			term.Words = append(term.Words, w)
			term.Prefix = append(term.Prefix, p)
			var forms []string
			if !p {
				forms = inflections(w)
			}
			term.Forms = append(term.Forms, forms)
		}
	}
	if len(term.Words) == 0 {
		return term, &SyntaxError{t.col, "empty phrase"}
	}
	return term, nil
}

// positive reports whether q can only be true because something is
// present, so that a firing rule always has evidence to show.
func positive(q *Query) bool {
	switch q.Op {
	case OpTerm, OpNear:
		return true
	case OpNot:
		return false
	case OpOr:
		for _, k := range q.Kids {
			if !positive(k) {
				return false
			}
		}
		return true
	case OpAnd:
		for _, k := range q.Kids {
			if positive(k) {
				return true
			}
		}
	}
	return false
}

// checkPositive rejects queries that would fire on the absence of words
// ("NOT film", "a OR NOT b") and NEAR operands that are only absences.
func checkPositive(q *Query) error {
	if !positive(q) {
		return &SyntaxError{q.Col, "query can match by absence alone (NOT ...); add a word that must be present"}
	}
	var walk func(*Query) error
	walk = func(n *Query) error {
		if n.Op == OpNear {
			for _, k := range n.Kids {
				if !positive(k) {
					return &SyntaxError{k.Col, "NEAR needs words on both sides, not NOT ..."}
				}
			}
		}
		for _, k := range n.Kids {
			if err := walk(k); err != nil {
				return err
			}
		}
		return nil
	}
	return walk(q)
}
