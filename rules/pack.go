package rules

import _ "embed"

// builtinPack is the starter rule pack: term lists and rules in the config's
// own `rules:` schema, so a config entry can replace any of them by id.
//
//go:embed pack/starter.yml
var builtinPack []byte

// BuiltinPack returns the embedded starter rule pack (YAML with `version`,
// `terms` and `rules`). config decodes it; the bytes are shared, not copied,
// so callers must not modify them.
func BuiltinPack() []byte { return builtinPack }

// BuiltinPackFile is the pack's path in the source tree, for messages.
const BuiltinPackFile = "rules/pack/starter.yml"
