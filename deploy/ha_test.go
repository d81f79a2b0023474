package deploy

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/schoolwatch/schoolwatch/config"
)

// TestHAComposeConfig validates the two-replica compose file (README, "High
// availability") with docker-compose, and its schoolwatch config with the
// config loader: the store is Postgres, its DSN read from the secret file.
func TestHAComposeConfig(t *testing.T) {
	dc := tool(t, "docker-compose")
	cmd := exec.Command(dc, "-f", "ha/docker-compose.yml", "config", "-q")
	cmd.Env = append(os.Environ(), "MAILPIT_UI_PASSWORD=x")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("docker-compose config: %v\n%s", err, out)
	}

	b, err := os.ReadFile("ha/schoolwatch.yml")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	dsn := filepath.Join(dir, "schoolwatch_dsn")
	if err := os.WriteFile(dsn, []byte("postgres://schoolwatch:pw@postgres:5432/schoolwatch\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	s := strings.Replace(string(b), "/run/secrets/schoolwatch_dsn", dsn, 1)
	cfg := filepath.Join(dir, "schoolwatch.yml")
	if err := os.WriteFile(cfg, []byte(s), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := config.Load(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if !c.Store.Postgres() || c.Store.DSN != "postgres://schoolwatch:pw@postgres:5432/schoolwatch" {
		t.Errorf("store = %+v", c.Store)
	}
}
