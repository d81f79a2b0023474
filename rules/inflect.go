package rules

import "slices"

// Rule words match their regular English inflections as well, so a rule
// says "stab" and catches "stabbed", "stabbing" and "stabs" without listing
// them. Forms are generated from the rule's word at compile time, never by
// stemming the post: a stemmer would fold "missing" into the teacher's
// "miss". Over-generation (a form English does not have) costs a map entry
// and matches nothing.

// noInflect are words whose inflections mean something else: "miss" the
// teacher is not "missing" or "missed"; titles and roles are not verbs.
var noInflect = map[string]bool{
	"miss": true, "sir": true, "mr": true, "mrs": true, "ms": true, "head": true,
	"news": true, "bus": true, "gas": true, "us": true, "his": true, "this": true,
	"was": true, "is": true, "yes": true, "less": true, "class": true,
}

// irregular forms of words that rules about schools use.
var irregular = map[string][]string{
	"knife": {"knives"}, "wife": {"wives"}, "life": {"lives"}, "child": {"children"},
	"man": {"men"}, "woman": {"women"}, "person": {"people"},
	"shoot": {"shot", "shooting", "shoots"}, "hit": {"hitting", "hits"}, "hurt": {"hurting", "hurts"},
	"cut": {"cutting", "cuts"}, "steal": {"stole", "stolen", "stealing", "steals"},
	"beat": {"beaten", "beating", "beats"}, "bring": {"brought", "bringing", "brings"},
	"take": {"took", "taken", "taking", "takes"}, "send": {"sent", "sending", "sends"},
	"fight": {"fought", "fighting", "fights"}, "burn": {"burnt", "burned", "burning", "burns"},
	"blow": {"blew", "blown", "blowing", "blows"}, "throw": {"threw", "thrown", "throwing", "throws"},
	"hide": {"hid", "hidden", "hiding", "hides"}, "catch": {"caught", "catching", "catches"},
	"break": {"broke", "broken", "breaking", "breaks"}, "write": {"wrote", "written", "writing", "writes"},
	"swear": {"swore", "sworn", "swearing", "swears"}, "tell": {"told", "telling", "tells"},
	"sell": {"sold", "selling", "sells"}, "leak": {"leaked", "leaking", "leaks"},
	"bully": {"bullied", "bullying", "bullies"}, "die": {"died", "dying", "dies"},
	"lie": {"lied", "lying", "lies"}, "feel": {"felt", "feeling", "feels"},
}

// inflections returns the other forms w also matches, or nil.
func inflections(w string) []string {
	if len(w) < 3 || noInflect[w] || !asciiLetters(w) {
		return nil
	}
	if irr, ok := irregular[w]; ok {
		return irr
	}
	var out []string
	add := func(f string) {
		if f != w && !slices.Contains(out, f) {
			out = append(out, f)
		}
	}
	n := len(w)
	last := w[n-1]
	consY := last == 'y' && !vowel(w[n-2])
	switch {
	case hasAnySuffix(w, "s", "x", "z", "ch", "sh"):
		add(w + "es")
	case consY:
		add(w[:n-1] + "ies")
	default:
		add(w + "s")
	}
	switch {
	case last == 'e':
		add(w + "d")
		add(w[:n-1] + "ing")
	case consY:
		add(w[:n-1] + "ied")
		add(w + "ing")
	default:
		add(w + "ed")
		add(w + "ing")
		// Short consonant-vowel-consonant words double the last
		// letter: stab, stabbed; grab, grabbing.
		if n >= 3 && !vowel(last) && vowel(w[n-2]) && !vowel(w[n-3]) && !hasAnySuffix(w, "w", "x", "y") {
			add(w + string(last) + "ed")
			add(w + string(last) + "ing")
		}
	}
	return out
}

func vowel(c byte) bool {
	switch c {
	case 'a', 'e', 'i', 'o', 'u':
		return true
	}
	return false
}

func asciiLetters(w string) bool {
	for i := 0; i < len(w); i++ {
		if w[i] < 'a' || w[i] > 'z' {
			return false
		}
	}
	return true
}

func hasAnySuffix(w string, sufs ...string) bool {
	for _, s := range sufs {
		if len(w) >= len(s) && w[len(w)-len(s):] == s {
			return true
		}
	}
	return false
}
