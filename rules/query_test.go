package rules

import (
	"errors"
	"testing"
)

func TestParseQueryPrecedence(t *testing.T) {
	tests := []struct {
		name, query, want string
	}{
		{"single word", "kill", "kill"},
		{"prefix", "stab*", "stab*"},
		{"phrase", `"going  to hurt"`, `"going to hurt"`},
		{"implicit AND", "a b c", "a AND b AND c"},
		{"explicit AND", "a AND b", "a AND b"},
		{"OR", "a OR b OR c", "a OR b OR c"},
		{"AND binds tighter than OR", "a b OR c", "(a AND b) OR c"},
		{"AND binds tighter than OR on the right", "a OR b c", "a OR (b AND c)"},
		{"NEAR binds tighter than AND", "a b NEAR/3 c", "a AND (b NEAR/3 c)"},
		{"NEAR binds tighter than OR", "a OR b NEAR/2 c", "a OR (b NEAR/2 c)"},
		{"NEAR chains to the left", "a NEAR/1 b NEAR/2 c", "(a NEAR/1 b) NEAR/2 c"},
		{"NOT binds tightest", "a NOT b", "a AND NOT b"},
		{"NOT before NEAR operand group", "a NEAR/2 b NOT c", "(a NEAR/2 b) AND NOT c"},
		{"NOT of a group", "(kill OR stab*) NOT (game OR film)", "(kill OR stab*) AND NOT (game OR film)"},
		{"parentheses override", "(a OR b) c", "(a OR b) AND c"},
		{"parentheses around NEAR operands", "(a OR b) NEAR/6 (c OR d)", "(a OR b) NEAR/6 (c OR d)"},
		{"double NOT", "a NOT NOT b", "a AND NOT NOT b"},
		{"lower case operators are words", "not safe or sound", "not AND safe AND or AND sound"},
		{"hyphenated word becomes a phrase", "self-harm", "self-harm"},
		{"curly quotes", "“going to hurt”", `"going to hurt"`},
		{"prefix inside phrase", `"bring a kni*"`, `"bring a kni*"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q, err := ParseQuery(tt.query)
			if err != nil {
				t.Fatalf("ParseQuery(%q): %v", tt.query, err)
			}
			if got := q.String(); got != tt.want {
				t.Errorf("ParseQuery(%q) = %s, want %s", tt.query, got, tt.want)
			}
			// The canonical form parses to itself.
			q2, err := ParseQuery(q.String())
			if err != nil || q2.String() != q.String() {
				t.Errorf("reparse of %s = %v, %v", q, q2, err)
			}
		})
	}
}

func TestParseQueryErrors(t *testing.T) {
	tests := []struct {
		name, query, want string
	}{
		{"empty", "", "col 1: empty query"},
		{"blank", "   ", "col 1: empty query"},
		{"missing close paren", `(kill OR stab* OR "going`, `col 19: unterminated phrase: missing closing '"'`},
		{"unclosed group", "(kill OR stab* OR bomb", "col 23: expected ')' to close '(' at col 1, found end of query"},
		{"unclosed group mid query", "(teacher OR staff NEAR/6 hit", "col 29: expected ')' to close '(' at col 1, found end of query"},
		{"stray close paren", "kill)", "col 5: unexpected ')' with no matching '('"},
		{"dangling OR", "kill OR", "col 8: expected a word, phrase or '(' after OR, found end of query"},
		{"leading OR", "OR kill", "col 1: expected a word, phrase or '(' after start of query, found OR"},
		{"double operator", "kill AND OR bomb", "col 10: expected a word, phrase or '(' after AND, found OR"},
		{"empty group", "kill ()", "col 7: expected a word, phrase or '(' after '(', found ')'"},
		{"NEAR without distance", "a NEAR b", "col 3: NEAR needs a distance, as in NEAR/5"},
		{"NEAR bad distance", "a NEAR/x b", `col 3: NEAR distance "x" is not a whole number from 0 to 1000`},
		{"NEAR too far", "a NEAR/5000 b", `col 3: NEAR distance "5000" is not a whole number from 0 to 1000`},
		{"star inside word", "st*b", `col 1: "st*b": '*' is only allowed at the end of a word`},
		{"short prefix", "kill OR a*", `col 9: prefix "a*" is too short (at least 2 letters before '*')`},
		{"punctuation only", "kill OR !!!", `col 9: "!!!" has no letters or digits`},
		{"empty phrase", `kill OR ""`, `col 9: empty phrase`},
		{"only NOT", "NOT film", "col 1: query can match by absence alone (NOT ...); add a word that must be present"},
		{"OR with NOT", "kill OR NOT film", "col 1: query can match by absence alone (NOT ...); add a word that must be present"},
		{"NOT inside NEAR", "kill NEAR/3 NOT film", "col 13: NEAR needs words on both sides, not NOT ..."},
		{"columns count runes", `"café" (x`, "col 10: expected ')' to close '(' at col 8, found end of query"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseQuery(tt.query)
			if err == nil {
				t.Fatalf("ParseQuery(%q) succeeded, want %q", tt.query, tt.want)
			}
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("error %T is not a *SyntaxError", err)
			}
			if err.Error() != tt.want {
				t.Errorf("ParseQuery(%q) error\n got %q\nwant %q", tt.query, err, tt.want)
			}
		})
	}
}

// TestOperators evaluates every operator against short texts that all
// mention the school, so only the query decides.
func TestOperators(t *testing.T) {
	tests := []struct {
		name, query, text string
		want              bool
	}{
		{"word", "kill", "threat to kill staff", true},
		{"word is whole word", "kill", "skills and killer instincts", false},
		{"word ignores case and punctuation", "kill", "KILL!!!", true},
		{"prefix", "stab*", "he was stabbed", true},
		{"prefix matches the word itself", "stab*", "a stab wound", true},
		{"prefix is anchored at word start", "stab*", "unstable wall", false},
		{"phrase", `"going to hurt"`, "said he was going to hurt someone", true},
		{"phrase words must be consecutive", `"going to hurt"`, "going to school, hurt my leg", false},
		{"phrase order matters", `"going to hurt"`, "hurt to going", false},
		{"phrase across punctuation", `"self harm"`, "signs of self-harm", true},
		{"hyphenated query word", "self-harm", "self harm is rising", true},
		{"phrase with prefix", `"bring a kni*"`, "will bring a knife in", true},
		{"AND both", "bomb threat", "a bomb threat", true},
		{"AND one missing", "bomb threat", "a bomb", false},
		{"OR either", "kill OR bomb", "bomb", true},
		{"OR neither", "kill OR bomb", "lovely day", false},
		{"NOT excludes", "kill NOT game", "kill streak in the game", false},
		{"NOT passes", "kill NOT game", "kill him", true},
		{"NOT of group", "(kill OR shoot*) NOT (game OR film)", "shooting the film", false},
		{"NEAR within", "teacher NEAR/3 hit", "the teacher then hit him", true},
		{"NEAR either order", "teacher NEAR/3 hit", "hit by a teacher", true},
		{"NEAR exactly n words between", "teacher NEAR/2 hit", "teacher one two hit", true},
		{"NEAR too far", "teacher NEAR/2 hit", "teacher one two three hit", false},
		{"NEAR/0 adjacent", "teacher NEAR/0 hit", "hit teacher", true},
		{"NEAR/0 not adjacent", "teacher NEAR/0 hit", "hit the teacher", false},
		{"NEAR with groups", "(teacher OR staff) NEAR/6 (abuse* OR hit)", "a member of staff abused him", true},
		{"prefix is literal", "abuse*", "abusive", false},
		{"NEAR one word is not both sides", "head* NEAR/3 head", "head", false},
		{"NEAR with phrase", `"teaching assistant" NEAR/2 slapped`, "teaching assistant slapped a child", true},
		{"precedence a b OR c", "a b OR c", "c", true},
		{"precedence a b OR c, a only", "a b OR c", "a", false},
		{"lower-case not is a word", `"not safe at home"`, "she is not safe at home", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := Compile([]School{{ID: "1", Name: "Zephyrfield Academy"}},
				[]Rule{{ID: "r", Query: tt.query}})
			if err != nil {
				t.Fatal(err)
			}
			got := len(m.Match("Zephyrfield Academy: "+tt.text)) > 0
			if got != tt.want {
				t.Errorf("query %s on %q: fired=%v, want %v", tt.query, tt.text, got, tt.want)
			}
		})
	}
}
