// Package guidance holds the advice that travels with every alert.
//
// A finding from the rules package names a guidance section (its rule's
// guidance key); the alerts package renders that section, always preceded by
// first-steps, into the mail it sends, together with the contacts the section
// points to. The built-in pack is a folder of Markdown files embedded in the
// binary: one section per file, each with YAML front matter (id, title,
// summary, categories, contacts, letters, next_hour) and a body with the
// same five headings, so a leader reading on a phone always finds the same
// shape. Each section's NextHour holds two or three short instructions for
// the first screen of an alert, starting with 999 wherever someone may be in
// immediate danger; EvidenceHint is the line shown beside a post's link, and
// for a possible sexual image of a child it says not to open or capture it.
// A folder named in config (guidance.dir) can replace or add sections, and
// guidance.contacts replaces or adds contacts. Kent's built-in numbers are a
// worked example: they are shown only when a configured contact is in Kent,
// and elsewhere a section that names one shows a placeholder ("Your local
// authority's LADO") instead. AreaNote is the matching line for leaders;
// SetupNote is the warning for the operator.
//
// The pack also carries template letters (inviting a parent or carer to
// meet, asking for a post to be removed, a note to affected staff), filled in
// with a school's details by Letter, which starts each with a note for the
// sender saying when not to send it.
//
// # Writing a custom pack
//
// A custom pack is a folder of *.md files. Each starts with front matter:
//
//	---
//	id: parental-complaints          # replaces the built-in section with this id, or adds one
//	title: A parent or carer complains online
//	summary: One sentence shown in lists and mail.
//	categories: [complaint]          # rule categories it fits (see rules.Categories)
//	contacts: [posh]                 # built-in contact IDs, optional
//	letters: [invite-to-meet]        # template letters it offers, optional
//	next_hour:                       # up to three short lines for the first screen, optional
//	  - Capture the post and log it. Do not reply online.
//	  - Invite the parent or carer to meet you, soon.
//	---
//
// followed by a Markdown body with exactly the second-level headings in
// Headings, in order. Raw HTML is dropped and links keep only http, https,
// mailto and tel addresses. Refer to another section by writing its title in
// italics ("see *Getting content removed*"); Related finds those. Name a
// letter by its title, as in: the template letter "Request to remove a
// post"; not by a command, since leaders read sections in their mail. Letters in the
// folder's letters/*.txt have front matter (id, title, summary and, optional,
// when_not_to_send) and a text/template body over LetterData, using
// {{fill .School "[school name]"}} to leave a prompt where a value is
// missing. Problems are reported as file:line.
package guidance
