package config

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzParse feeds arbitrary bytes to the config loader: it must return a
// config or errors, never panic, and a config it accepts must be usable
// (a time zone loaded, defaults applied).
func FuzzParse(f *testing.F) {
	if b, err := os.ReadFile(filepath.Join("..", "schoolwatch.example.yml")); err == nil {
		f.Add(b)
	}
	for _, s := range []string{
		"",
		"{}",
		"schools: [",
		"timezone: Mars/Olympus\n",
		"store: { retention: -5d }\nmail: { retry: { initial: 0s, max: 1x } }\n",
		"mail:\n  smtp: { host: localhost, port: 99999, tls: maybe, password: ${NO_SUCH_VAR_XYZ} }\n",
		"feeds:\n  - { id: a, url: 'https://example.org/?q={{ .Query }}', per_school: true }\n  - { id: a, url: 'ftp://x' }\n",
		"schools:\n  - id: \"1\"\n    name: Oak\n    leaders: [{ email: not-an-address, roles: [wizard] }]\n",
		"rules:\n  - { id: r, query: '(a OR', category: nope, severity: urgent, delivery: later }\n",
		"a: &a [*a]\n",
		"--- \n...\n---\nx: 1\n",
		"defaults: { schedule: '61 * * * *', timeout: 1e400s, max_item_age: 99999999999999h }\n",
		"polling: { concurrency: 0, per_host: -1, jitter: 7d }\n",
		"guidance:\n  contacts:\n    - { name: X, verified: 2026-13-45 }\n",
	} {
		f.Add([]byte(s))
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse(filepath.Join(dir, "fuzz.yml"), data)
		if err != nil {
			if c != nil {
				t.Fatal("Parse returned both a config and an error")
			}
			if err.Error() == "" {
				t.Fatal("empty error message")
			}
			return
		}
		if c == nil {
			t.Fatal("Parse returned neither a config nor an error")
		}
		if c.Location == nil {
			t.Error("an accepted config has no time zone")
		}
		if c.Store.Path == "" || c.Store.Retention.Duration <= 0 {
			t.Errorf("an accepted config lacks its store defaults: %+v", c.Store)
		}
	})
}
