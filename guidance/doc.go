// Package guidance holds the advice that travels with every alert.
//
// A finding from the rules package names a guidance section (its rule's
// guidance key); the alerts package renders that section, always preceded by
// first-steps, into the mail it sends, together with the contacts the section
// points to. The built-in pack is a folder of Markdown files embedded in the
// binary: one section per file, each with YAML front matter (id, title,
// summary, categories, contacts, letters) and a body with the same five
// headings, so a leader reading on a phone always finds the same shape.
// A folder named in config (guidance.dir) can replace or add sections, and
// guidance.contacts replaces or adds contacts, so settings outside Kent show
// their own numbers instead of Kent's.
//
// The pack also carries template letters (inviting a parent or carer to
// meet, asking for a post to be removed, a note to affected staff), filled in
// with a school's details by Letter.
//
// # Writing a custom pack
//
// A custom pack is a folder of *.md files. Each starts with front matter:
//
//	---
//	id: parental-complaints          # replaces the built-in section with this id, or adds one
//	title: A parent or carer complains online
//	summary: One sentence shown in lists and mail.
//	categories: [complaint]          # rule categories it fits (see Categories)
//	contacts: [posh]                 # built-in contact IDs, optional
//	letters: [invite-to-meet]        # template letters it offers, optional
//	---
//
// followed by a Markdown body with exactly the second-level headings in
// Headings, in order. Raw HTML is dropped and links keep only http, https,
// mailto and tel addresses. Refer to another section by writing its title in
// italics ("see *Getting content removed*"); Related finds those. Letters in
// the folder's letters/*.txt have front matter (id, title, summary) and a
// text/template body over LetterData, using {{fill .School "[school name]"}}
// to leave a prompt where a value is missing. Problems are reported as
// file:line.
package guidance
