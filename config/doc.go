// Package config loads and validates the schoolwatch YAML configuration.
//
// The format is a contract shared with users and outside tooling (see the
// README): keys are never renamed, only added. Load decodes strictly (an
// unknown key is an error), expands ${ENV} references and *_file secrets,
// applies defaults in one place and validates, reporting every problem at
// once as "file:line: field: message". After Load succeeds the rest of the
// program trusts the Config it returns.
package config
