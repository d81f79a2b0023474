package classify

import "github.com/schoolwatch/schoolwatch/rules"

// CorpusSchools are the invented schools the labelled corpus is written
// about (/work/notes/corpus-spec.md). Their names, towns and aliases are
// masked in training, and Builtin's model masks them too; a caller scoring
// real posts adds the configured schools with ForSchools.
var CorpusSchools = []rules.School{
	{ID: "990001", Name: "St Mary's Church of England Primary School", Town: "Folkestone",
		Aliases: []string{"St Mary's Folkestone", "St Mary's"}, Hashtags: []string{"#StMarysFolkestone"},
		Domains: []string{"stmarys-folkestone.example.sch.uk"}},
	{ID: "990002", Name: "Harbourside Academy", Town: "Dover",
		Aliases: []string{"Harbourside"}, Hashtags: []string{"#HarboursideAcademy"}},
	{ID: "990003", Name: "St Joseph's Catholic Primary School", Town: "Canterbury"},
	{ID: "990004", Name: "Brookfield Community School", Town: "Ramsgate", Aliases: []string{"Brookfield"}},
	{ID: "990005", Name: "Oak Academy", Town: "Ashford"},
	{ID: "990006", Name: "Oak Academy", Town: "Margate"},
	{ID: "990007", Name: "Harbour View School", Town: "Whitstable", Aliases: []string{"Harbour View"}},
	{ID: "990008", Name: "Park View Primary School", Town: "Sheerness", Aliases: []string{"Park View"}},
	{ID: "990009", Name: "St John's CE Primary School", Town: "Maidstone", Aliases: []string{"St John's Maidstone"}},
	{ID: "990010", Name: "St John's Catholic Comprehensive", Town: "Gravesend",
		Aliases: []string{"St John's Gravesend", "SJCC"}},
	{ID: "990011", Name: "Hillcrest Academy", Town: "Sevenoaks", Aliases: []string{"Hillcrest"}},
	{ID: "990012", Name: "Westgate Grammar School for Girls", Town: "Westgate-on-Sea",
		Aliases: []string{"Westgate Grammar", "WGGS"}},
}

// corpusSchoolIDs are the IDs a corpus line may name.
func corpusSchoolIDs() map[string]bool {
	m := make(map[string]bool)
	for _, s := range CorpusSchools {
		m[s.ID] = true
	}
	return m
}
