package config

import (
	"maps"
	"regexp"
	"slices"

	"github.com/goccy/go-yaml"

	"github.com/schoolwatch/schoolwatch/rules"
	"github.com/schoolwatch/schoolwatch/yamlpos"
)

// builtinPack is the decoded shape of rules.BuiltinPack.
type builtinPack struct {
	Version string              `yaml:"version"`
	Terms   map[string][]string `yaml:"terms"`
	Rules   []Rule              `yaml:"rules"`
}

// loadBuiltinPack decodes the embedded starter pack strictly; a test keeps
// it valid, so an error here is a build defect, reported like a config error.
func loadBuiltinPack() (*builtinPack, error) {
	var p builtinPack
	if err := yaml.UnmarshalWithOptions(rules.BuiltinPack(), &p, yaml.DisallowUnknownField()); err != nil {
		return nil, err
	}
	return &p, nil
}

var termNameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]*$`)

// mergeBuiltin puts the built-in starter pack under the configured rules
// and term lists. A configured rule with a built-in rule's id replaces it
// in place of the configured entry; the remaining built-in rules follow
// the configured ones, so configured rules keep their indices, and their
// lines in messages. A configured term list replaces the pack's of the
// same name.
func (c *Config) mergeBuiltin() yamlpos.Errors {
	var errs yamlpos.Errors
	for i := range c.Rules {
		c.Rules[i].Source = SourceConfig
	}
	for _, name := range slices.Sorted(maps.Keys(c.Terms)) {
		field := "terms." + name
		if !termNameRE.MatchString(name) {
			errs = append(errs, c.Errorf(field, "term list names are lower-case letters, digits, - and _ (used as @%s)", name))
		}
		if len(c.Terms[name]) == 0 {
			errs = append(errs, c.Errorf(field, "is empty"))
		}
	}
	c.TermLists = rules.TermLists{}
	if c.RulesBuiltin == nil || *c.RulesBuiltin {
		p, err := loadBuiltinPack()
		if err != nil {
			return append(errs, yamlpos.Error{File: rules.BuiltinPackFile, Msg: err.Error()})
		}
		c.PackVersion = p.Version
		maps.Copy(c.TermLists, p.Terms)
		configured := map[string]bool{}
		for i := range c.Rules {
			configured[c.Rules[i].ID] = true
		}
		for _, r := range p.Rules {
			if configured[r.ID] {
				for i := range c.Rules {
					if c.Rules[i].ID == r.ID {
						c.Rules[i].Source = SourceOverride
					}
				}
				continue
			}
			r.Source = SourceBuiltin
			c.Rules = append(c.Rules, r)
		}
	}
	maps.Copy(c.TermLists, c.Terms)
	return errs
}
