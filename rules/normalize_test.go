package rules

import "testing"

func TestNormalize(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"lower case and punctuation", "Hello, World!!  How   are you?", "hello world how are you"},
		{"straight apostrophe dropped", "St Mary's", "st marys"},
		{"curly apostrophe dropped", "St Mary’s", "st marys"},
		{"modifier apostrophe", "St Maryʼs", "st marys"},
		{"trailing possessive", "the pupils' photos", "the pupils photos"},
		{"quotes around a word", "'kill' \"film\"", "kill film"},
		{"full stop after St", "St. Mary's C.E. School", "st marys c e school"},
		{"hyphen splits", "self-harm", "self harm"},
		{"diacritics removed", "Zoë Brontë café naïve", "zoe bronte cafe naive"},
		{"NFKC full width", "ＳＴ　ＭＡＲＹＳ", "st marys"},
		{"NFKC ligature", "ﬁre", "fire"},
		{"case folding sharp s", "Straße", "strasse"},
		{"stroke letters", "Øresund Łódź", "oresund lodz"},
		{"hashtag camel case", "#StMarysFolkestone", "st marys folkestone"},
		{"hashtag lower case stays one word", "#stmarysfolkestone", "stmarysfolkestone"},
		{"hashtag with digits", "#Year6Leavers", "year 6 leavers"},
		{"hashtag acronym", "#BBCNews", "bbc news"},
		{"handle", "@HarboursideAcad", "harbourside acad"},
		{"email is not a handle", "office@StMarys.org", "office stmarys org"},
		{"hash inside a word", "C#Sharp", "c sharp"},
		{"domain", "https://stmarys-folkestone.kent.sch.uk/news", "https stmarys folkestone kent sch uk news"},
		{"newlines collapse", "Title\n\nBody text", "title body text"},
		{"digits kept", "Year 6 SATs 2026", "year 6 sats 2026"},
		{"emoji is punctuation", "great 👍 school", "great school"},
		{"vulgar fraction", "½", "1 2"},
		{"empty", "", ""},
		{"only punctuation", "!!! ...", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Normalize(tt.in); got != tt.want {
				t.Errorf("Normalize(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

// Token offsets must point at the original words so evidence can be
// highlighted.
func TestTokenOffsets(t *testing.T) {
	tests := []struct {
		in   string
		want []string // text[start:end] of each token
	}{
		{"St Mary’s, Folkestone", []string{"St", "Mary’s", "Folkestone"}},
		{"#StMarysFolkestone!", []string{"St", "Marys", "Folkestone"}},
		{"café—naïve", []string{"café", "naïve"}},
		{"'quoted'", []string{"quoted"}},
	}
	for _, tt := range tests {
		tk := newTokenizer()
		tk.tokenize(tt.in)
		var got []string
		for _, tok := range tk.toks {
			got = append(got, tt.in[tok.start:tok.end])
		}
		if len(got) != len(tt.want) {
			t.Errorf("%q: tokens %q, want %q", tt.in, got, tt.want)
			continue
		}
		for i := range got {
			if got[i] != tt.want[i] {
				t.Errorf("%q: tokens %q, want %q", tt.in, got, tt.want)
				break
			}
		}
	}
}
