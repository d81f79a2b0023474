package guidance

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"text/template"

	"github.com/schoolwatch/schoolwatch/yamlpos"
)

// Letter describes a template letter in the pack.
type Letter struct {
	ID, Title, Summary string
	// WhenNotToSend says in which situations the letter must not be sent
	// (for example while the LADO or the police are involved). Letter
	// prints it above the letter, in a note for the sender to delete.
	WhenNotToSend string
}

// LetterData fills in a template letter. Empty fields appear as a bracketed
// prompt, such as "[name of parent or carer]", for the writer to complete.
type LetterData struct {
	School, SchoolTown, Head, Date string
	// HeadRole is the signatory's job title; "Headteacher" when empty.
	HeadRole string
	// Recipient is the person the letter is addressed to.
	Recipient string
	// Platform, PostURL and PostDate identify the post a letter is about.
	Platform, PostURL, PostDate string
	// MeetingDate is the proposed meeting, for the invitation.
	MeetingDate string
}

type letter struct {
	Letter
	File string
	tmpl *template.Template
}

// letterFront is the front matter of a letter file.
type letterFront struct {
	ID            string `yaml:"id"`
	Title         string `yaml:"title"`
	Summary       string `yaml:"summary"`
	WhenNotToSend string `yaml:"when_not_to_send"`
}

// letterFuncs are available in letter templates.
var letterFuncs = template.FuncMap{
	// fill returns v, or the prompt when v is empty: {{fill .School "[school]"}}.
	"fill": func(v, prompt string) string {
		if strings.TrimSpace(v) == "" {
			return prompt
		}
		return v
	},
}

func parseLetter(file string, src []byte) (*letter, error) {
	var fm letterFront
	body, bodyLine, lines, err := decodeFrontMatter(file, src, &fm)
	if err != nil {
		return nil, err
	}
	fe := &fmErrors{file: file, lines: lines}
	bad := fe.bad
	if !idPattern.MatchString(fm.ID) {
		bad("id", "%q must be lower-case letters, digits and hyphens", fm.ID)
	}
	if strings.TrimSpace(fm.Title) == "" {
		bad("title", "is required")
	}
	if strings.TrimSpace(fm.Summary) == "" {
		bad("summary", "is required")
	}
	trimmed := strings.TrimLeft(string(body), "\n")
	bodyLine += len(body) - len(trimmed)
	// Template errors carry lines relative to the body; the name makes
	// them read as file:line once offset.
	t, err := template.New(file).Funcs(letterFuncs).Option("missingkey=error").Parse(trimmed)
	if err != nil {
		fe.errs = append(fe.errs, yamlpos.Error{File: file, Line: bodyLine, Msg: err.Error()})
	} else if err := t.Execute(&strings.Builder{}, LetterData{}); err != nil {
		fe.errs = append(fe.errs, yamlpos.Error{File: file, Line: bodyLine, Msg: err.Error()})
	}
	if len(fe.errs) > 0 {
		return nil, fe.errs
	}
	return &letter{
		Letter: Letter{
			ID: fm.ID, Title: strings.TrimSpace(fm.Title), Summary: strings.TrimSpace(fm.Summary),
			WhenNotToSend: strings.Join(strings.Fields(fm.WhenNotToSend), " "),
		},
		File: file,
		tmpl: t,
	}, nil
}

// Letters returns the pack's template letters, sorted by ID.
func (p *Pack) Letters() []Letter {
	var out []Letter
	for _, id := range slices.Sorted(maps.Keys(p.letters)) {
		out = append(out, p.letters[id].Letter)
	}
	return out
}

// Letter returns the letter with the given ID filled in with d, as plain
// text ready to edit and send. A letter that says when not to send it starts
// with that, in a note marked for the sender to delete.
func (p *Pack) Letter(id string, d LetterData) (string, error) {
	l, ok := p.letters[id]
	if !ok {
		return "", fmt.Errorf("guidance: no letter %q (letters: %s)", id, strings.Join(slices.Sorted(maps.Keys(p.letters)), ", "))
	}
	if d.HeadRole == "" {
		d.HeadRole = "Headteacher"
	}
	var b strings.Builder
	if l.WhenNotToSend != "" {
		b.WriteString(senderNoteTitle + "\n")
		wrapText(&b, "When not to send this: "+l.WhenNotToSend, "", "")
		b.WriteString(strings.Repeat("-", textWidth) + "\n\n")
	}
	if err := l.tmpl.Execute(&b, d); err != nil {
		return "", fmt.Errorf("guidance: letter %s: %w", id, err)
	}
	return strings.TrimRight(b.String(), "\n") + "\n", nil
}

// senderNoteTitle heads the note printed above a letter: it is for the
// sender, not the recipient.
const senderNoteTitle = "NOTE FOR THE SENDER: read this, then delete it before you send the letter."

// LettersFor returns the letters a section offers.
func (p *Pack) LettersFor(s *Section) []Letter {
	var out []Letter
	for _, id := range s.Letters {
		if l, ok := p.letters[id]; ok {
			out = append(out, l.Letter)
		}
	}
	return out
}
