package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
	"time"

	"github.com/schoolwatch/schoolwatch/config"
	"github.com/schoolwatch/schoolwatch/daemon"
	"github.com/schoolwatch/schoolwatch/guidance"
)

func init() {
	register(&command{
		name:    "guidance",
		usage:   "[-config FILE] [ID] | letter [ID] [-school SCHOOLID] [-to NAME]",
		summary: "list the guidance sections, print one, or fill in a template letter",
		run:     runGuidance,
	})
}

// runGuidance lets a leader read the advice without waiting for an alert.
// It needs no config: without one it shows the built-in pack. With a config
// it uses guidance.dir and guidance.contacts, and fills letters in with the
// school's details.
func runGuidance(ctx context.Context, e *env, args []string) error {
	fset := e.flags("guidance")
	school := fset.String("school", "", "school `ID` whose name and head fill in a letter (default: the only school in the config)")
	to := fset.String("to", "", "`NAME` of the person a letter is addressed to")
	pos, err := parse(fset, args)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return &exitError{code: 2}
	}
	configSet := false
	fset.Visit(func(f *flag.Flag) { configSet = configSet || f.Name == "config" })
	cfg, err := guidanceConfig(e.configPath, configSet || e.configPath != "schoolwatch.yml")
	if err != nil {
		return err
	}
	pack, err := daemon.Pack(cfg)
	if err != nil {
		return err
	}

	switch {
	case len(pos) == 0:
		listGuidance(e.stdout, pack)
		return nil
	case pos[0] == "letter":
		switch len(pos) {
		case 1:
			listLetters(e.stdout, pack)
			return nil
		case 2:
			d, err := letterData(cfg, *school, time.Now())
			if err != nil {
				return err
			}
			d.Recipient = *to
			txt, err := pack.Letter(pos[1], d)
			if err != nil {
				return err
			}
			_, err = io.WriteString(e.stdout, txt)
			return err
		}
		return &exitError{code: 2, err: errors.New("usage: schoolwatch guidance letter [ID] [-school SCHOOLID] [-to NAME]")}
	case len(pos) == 1:
		s, ok := pack.Section(pos[0])
		if !ok {
			var ids []string
			for _, s := range pack.Sections() {
				ids = append(ids, s.ID)
			}
			return fmt.Errorf("no section %q (sections: %s)", pos[0], strings.Join(ids, ", "))
		}
		printSection(e.stdout, pack, s)
		return nil
	}
	return &exitError{code: 2, err: errors.New("usage: schoolwatch guidance [-config FILE] [ID]")}
}

// guidanceConfig loads the config when there is one. A missing default
// schoolwatch.yml is not an error: the built-in pack needs no config.
func guidanceConfig(path string, explicit bool) (*config.Config, error) {
	if !explicit {
		if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
			return nil, nil
		}
	}
	return config.Load(path)
}

// listGuidance prints each section's ID and title, with its summary on the
// next line, so the list stays readable in a narrow terminal.
func listGuidance(w io.Writer, p *guidance.Pack) {
	for _, s := range p.Sections() {
		fmt.Fprintf(w, "%-27s %s\n%-27s %s\n", s.ID, s.Title, "", s.Summary)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Read a section:   schoolwatch guidance ID")
	fmt.Fprintln(w, "Template letters: schoolwatch guidance letter")
}

func listLetters(w io.Writer, p *guidance.Pack) {
	for _, l := range p.Letters() {
		fmt.Fprintf(w, "%-27s %s\n%-27s %s\n", l.ID, l.Title, "", l.Summary)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Fill one in: schoolwatch guidance letter ID [-config FILE] [-school SCHOOLID] [-to NAME]")
}

// printSection writes a section as a leader reads it in a terminal: title,
// summary, advice, contacts, then the letters and sections it points to.
func printSection(w io.Writer, p *guidance.Pack, s *guidance.Section) {
	fmt.Fprintf(w, "%s\n%s\n\n%s\n\n", s.Title, strings.Repeat("=", len([]rune(s.Title))), s.Summary)
	io.WriteString(w, s.Text())
	if cs := p.ContactsFor(s); len(cs) > 0 || s.ID == "contacts" {
		fmt.Fprintf(w, "\nContacts\n--------\n\n%s", guidance.ContactsText(cs))
	}
	if ls := p.LettersFor(s); len(ls) > 0 {
		fmt.Fprintf(w, "\nTemplate letters\n----------------\n\n")
		for _, l := range ls {
			fmt.Fprintf(w, "- %s: schoolwatch guidance letter %s\n", l.Title, l.ID)
		}
	}
	if rs := p.Related(s); len(rs) > 0 {
		fmt.Fprintf(w, "\nSee also\n--------\n\n")
		for _, r := range rs {
			fmt.Fprintf(w, "- %s: schoolwatch guidance %s\n", r.Title, r.ID)
		}
	}
}

// letterData fills a letter in from the config's school: the one named by
// schoolID, or the only one. Without a config the letter keeps its prompts.
func letterData(cfg *config.Config, schoolID string, now time.Time) (guidance.LetterData, error) {
	loc := time.Local
	if cfg != nil && cfg.Location != nil {
		loc = cfg.Location
	}
	d := guidance.LetterData{Date: now.In(loc).Format("2 January 2006")}
	if cfg == nil {
		if schoolID != "" {
			return d, fmt.Errorf("-school %s needs a config: add -config FILE", schoolID)
		}
		return d, nil
	}
	var sc *config.School
	for i := range cfg.Schools {
		if cfg.Schools[i].ID == schoolID || (schoolID == "" && len(cfg.Schools) == 1) {
			sc = &cfg.Schools[i]
		}
	}
	if sc == nil {
		if schoolID == "" {
			return d, nil // several schools and none chosen: keep the prompts
		}
		var ids []string
		for _, s := range cfg.Schools {
			ids = append(ids, s.ID)
		}
		return d, fmt.Errorf("no school %q in %s (schools: %s)", schoolID, cfg.File, strings.Join(ids, ", "))
	}
	d.School, d.SchoolTown = sc.Name, sc.Town
	for _, l := range sc.Leaders {
		for _, r := range l.Roles {
			if r == "head" && d.Head == "" {
				d.Head = l.Name
			}
		}
	}
	return d, nil
}
