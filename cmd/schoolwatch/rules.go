package main

import (
	"context"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/schoolwatch/schoolwatch/config"
)

func init() {
	register(&command{
		name:    "rules",
		usage:   "-config FILE [ID]",
		summary: "list the effective rules (built-in pack and config) with where each comes from, or print one",
		run:     runRules,
	})
}

// runRules prints the rules the daemon runs: the built-in starter pack
// merged with the config's rules, so an operator can see what an override
// replaced. With an ID it prints that rule's query and the term lists it
// uses.
func runRules(ctx context.Context, e *env, args []string) error {
	fs := e.flags("rules")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 1 {
		return &exitError{code: 2, err: fmt.Errorf("usage: schoolwatch rules [-config FILE] [ID]")}
	}
	p, err := e.load()
	if err != nil {
		return err
	}
	cfg := p.Config
	if len(pos) == 1 {
		r, ok := cfg.Rule(pos[0])
		if !ok {
			var ids []string
			for _, r := range cfg.Rules {
				ids = append(ids, r.ID)
			}
			return fmt.Errorf("no rule %q (rules: %s)", pos[0], strings.Join(ids, ", "))
		}
		writeRule(e.stdout, cfg, r)
		return nil
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tCATEGORY\tSEVERITY\tDELIVERY\tNOTIFY\tGUIDANCE\tSOURCE")
	for i, r := range cfg.Rules {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.ID, r.Category, r.Severity, r.Delivery, strings.Join(r.Notify, ","), p.Rules[i].Guidance, r.Source)
	}
	tw.Flush()
	pack := "off (rules_builtin: false)"
	if cfg.PackVersion != "" {
		pack = cfg.PackVersion
	}
	fmt.Fprintf(e.stdout, "\nbuilt-in rule pack: %s\nterm lists: %s\nschoolwatch rules ID prints a rule's query.\n", pack, listNames(cfg))
	return nil
}

func listNames(cfg *config.Config) string {
	var out []string
	for _, k := range slices.Sorted(maps.Keys(cfg.TermLists)) {
		out = append(out, "@"+k)
	}
	if len(out) == 0 {
		return "none"
	}
	return strings.Join(out, " ")
}

// writeRule prints one rule in full, with the entries of the term lists
// its query names.
func writeRule(w io.Writer, cfg *config.Config, r *config.Rule) {
	fmt.Fprintf(w, "%s (%s)\n  category: %s\n  severity: %s\n  delivery: %s\n  notify:   %s\n  query:    %s\n",
		r.ID, r.Source, r.Category, r.Severity, r.Delivery, strings.Join(r.Notify, ", "), r.Query)
	for _, k := range slices.Sorted(maps.Keys(cfg.TermLists)) {
		if strings.Contains(r.Query, "@"+k) {
			fmt.Fprintf(w, "  @%s: %s\n", k, strings.Join(cfg.TermLists[k], ", "))
		}
	}
}
