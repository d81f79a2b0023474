// Package config loads and validates the schoolwatch YAML configuration.
//
// The format is a contract shared with users and outside tooling (see the
// README): keys are never renamed, only added. Load decodes strictly (an
// unknown key is an error), expands ${ENV} references and *_file secrets,
// applies defaults in one place (defaults.go) and validates. Checks that
// need more than the config, such as compiling the rule queries, are passed
// to Load as a Check and run in the same pass, so every problem is reported
// at once as "file:line: field: message" (a yamlpos.Errors). After Load
// succeeds the rest of the program trusts the Config it returns.
//
// The values a rule may carry (category, severity, delivery) have their one
// list in package rules; a guidance contact is a guidance.Contact.
package config
