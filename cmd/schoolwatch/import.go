package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/schoolwatch/schoolwatch/config"
	"github.com/schoolwatch/schoolwatch/gias"
)

func init() {
	register(&command{
		name:    "import",
		usage:   "gias [-la NAME]... [-phase PHASE]... [-leader ROLE=TEMPLATE]... [-keep FILE] FILE",
		summary: "write the open schools of the DfE register (GIAS establishment CSV) as a schools_file to stdout",
		run:     runImport,
	})
}

// listFlag is a flag that may be given more than once.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ", ") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

// runImport reads a GIAS establishment file and writes its open schools
// in the chosen local authorities as YAML with a top-level schools: list,
// for the config's schools_file. Problems with rows and schools go to
// stderr, one a line as FILE:LINE: message, then a summary.
func runImport(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 || args[0] != "gias" {
		return &exitError{code: 2, err: errors.New("usage: schoolwatch import gias [-la NAME]... [-phase PHASE]... [-leader ROLE=TEMPLATE]... [-keep FILE] FILE\n(gias is the only source so far: the DfE's edubasealldata*.csv from get-information-schools.service.gov.uk)")}
	}
	fs := e.flags("import gias")
	var las, phases, leaders listFlag
	fs.Var(&las, "la", "keep the schools of local authority `NAME` (the register's LA (name), e.g. Kent); repeat for more; none keeps all")
	fs.Var(&phases, "phase", "keep the schools of `PHASE` (Primary, Secondary, All-through, Nursery, 16 plus, Not applicable...); repeat for more")
	fs.Var(&leaders, "leader", "give each school a leader with `ROLE=TEMPLATE`, as in head=head@{domain} or dsl=dsl-{urn}@la.example.gov.uk ({domain}, {urn}, {name}); repeat for more")
	keep := fs.String("keep", "", "carry over what was added by hand to the schools of `FILE`, the previous import in use: paused, hashtags, extra aliases and leaders")
	pos, err := parseArgs(fs, args[1:])
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return &exitError{code: 2, err: errors.New("schoolwatch import gias: give one establishment CSV file (or - for stdin)")}
	}
	opts := gias.Options{LAs: las, Phases: phases}
	for _, l := range leaders {
		t, err := gias.ParseLeaderTemplate(l)
		if err != nil {
			return &exitError{code: 2, err: fmt.Errorf("schoolwatch import gias: -leader %v", err)}
		}
		if !slices.Contains(config.KnownRoles, t.Role) {
			fmt.Fprintf(e.stderr, "warning: -leader %s: %q is not a built-in role; list it under roles: in the config\n", t, t.Role)
		}
		opts.Leaders = append(opts.Leaders, t)
	}
	var prev []config.School
	if *keep != "" {
		if out, ok := e.stdout.(*os.File); ok && sameFile(out, *keep) {
			return &exitError{code: 2, err: fmt.Errorf("schoolwatch import gias: -keep %s is also standard output, which the shell has emptied: write the import to a new file and move it into place (restore %s from a backup)", *keep, *keep)}
		}
		if prev, err = config.LoadSchoolsFile(*keep); err != nil {
			return &exitError{code: 1, err: err}
		}
	}

	name := pos[0]
	var in io.Reader = os.Stdin
	if name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return err
		}
		defer f.Close()
		in = f
	} else {
		name = "stdin"
	}
	imp, err := gias.Read(in, opts)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	for _, w := range imp.Warnings {
		if w.Line > 0 {
			fmt.Fprintf(e.stderr, "%s:%d: %s\n", name, w.Line, strings.TrimPrefix(w.String(), "line "+strconv.Itoa(w.Line)+": "))
		} else {
			fmt.Fprintf(e.stderr, "%s: %s\n", name, w)
		}
	}
	if len(imp.Schools) == 0 {
		return fmt.Errorf("%s: no open establishment matches %s", name, describeFilters(opts))
	}
	var kept gias.Kept
	if *keep != "" {
		kept = gias.Keep(imp.Schools, prev, opts.Leaders)
		for _, s := range kept.Gone {
			fmt.Fprintf(e.stderr, "%s: school %s %q is no longer open in the register (or no longer matches %s): left out\n", *keep, s.ID, s.Name, describeFilters(opts))
		}
	}
	noLeaders := 0
	for _, s := range imp.Schools {
		if len(s.Leaders) == 0 {
			noLeaders++
		}
	}

	header := fmt.Sprintf("Schools from the DfE register (GIAS), written by:\n  schoolwatch %s\n%d open establishments of %d rows (%s); %d warnings.\nReview it, then name it as the config's schools_file. Re-import monthly with\n-keep (README: \"Running it for a local authority\").",
		commandLine(args, pos[0]), len(imp.Schools), imp.Rows, imp.Encoding, len(imp.Warnings))
	if err := gias.Write(e.stdout, header, imp.Schools); err != nil {
		return err
	}

	fmt.Fprintf(e.stderr, "%s: %d schools from %d rows (%s), %d warnings\n", name, len(imp.Schools), imp.Rows, imp.Encoding, len(imp.Warnings))
	if *keep != "" {
		fmt.Fprintf(e.stderr, "%s: %d schools carried over (%d with hand edits kept), %d new, %d gone\n", *keep, kept.Schools, kept.Edited, len(kept.New), len(kept.Gone))
	}
	if noLeaders > 0 {
		fmt.Fprintf(e.stderr, "%s: %d schools have no leader: their alerts go to mail.fallback, which the config must set\n", name, noLeaders)
	}
	return nil
}

// sameFile reports whether f is the file at path.
func sameFile(f *os.File, path string) bool {
	a, err := f.Stat()
	if err != nil {
		return false
	}
	b, err := os.Stat(path)
	return err == nil && os.SameFile(a, b)
}

func describeFilters(o gias.Options) string {
	var parts []string
	if len(o.LAs) > 0 {
		parts = append(parts, "-la "+strings.Join(o.LAs, ", "))
	}
	if len(o.Phases) > 0 {
		parts = append(parts, "-phase "+strings.Join(o.Phases, ", "))
	}
	if len(parts) == 0 {
		return "the file"
	}
	return strings.Join(parts, " and ")
}

// commandLine is the import's arguments as a shell would need them, the
// register file by its base name.
func commandLine(args []string, file string) string {
	out := []string{"import"}
	for _, a := range args {
		if a == file && a != "-" {
			a = filepath.Base(a)
		}
		if a == "" || strings.ContainsAny(a, " \t'\"\\$`{}*?;&|<>()#~\n") {
			a = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
		out = append(out, a)
	}
	return strings.Join(out, " ")
}

var _ flag.Value = (*listFlag)(nil)
