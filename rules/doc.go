// Package rules decides what a school leader is told. It sits between
// watchers and alerts in the flow (feed → watchers.Item → rules.Finding →
// alerts.Alert): given the plain text of an item it finds which configured
// schools are mentioned and which keyword rules fire on that text, and
// returns one Finding per (school, rule) pair with the evidence — the byte
// spans that matched — so a mail can show a highlighted excerpt.
//
// Everything is compiled once, when the config loads (Compile), and matching
// never allocates for the common case of an item that mentions no school.
// Text and patterns go through the same normalisation (NFKC, case folding,
// diacritics removed, apostrophes and invisible characters dropped, Greek,
// Cyrillic and Armenian look-alikes of Latin letters folded, punctuation
// collapsed, hashtags and @handles split at case changes), so a pattern
// matches whole
// normalised words wherever they appear. A word with a possessive 's also
// matches without it ("Harbourside Academy's", "teacher's").
//
// School mentions are found with a hashed word n-gram scan: the item is
// tokenised once into normalised word hashes, and each position looks up the
// hashes of the 1..k word sequences starting there in one table holding
// every alias of every school. The cost per item therefore does not grow with
// the number of schools. Aliases that could easily mean something else — a
// dedication such as "St Mary's", a single word, a phrase made only of common
// words, or an alias two schools share — count only when the school's town or
// one of its context terms appears within ContextWindow words.
//
// Each school is known by its name, configured aliases, hashtags and
// domains, plus generated forms: St/Saint, Church of England/C of E/CE/CofE,
// Roman Catholic/RC/Catholic, the name without trailing "School", "Primary",
// "Academy" (unless that leaves a common word or the town), and every
// multi-word alias run together ("stmarysfolkestone").
//
// Rules are written in a small query language (see ParseQuery): words,
// "phrases", prefix*, AND (also implied), OR, NOT, parentheses and
// A NEAR/n B. A rule is evaluated only for items that mention a school.
// Explain prints how a text was read, which is how users tune rules.
package rules
