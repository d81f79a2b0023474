package deploy

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// dockerfile returns the Dockerfile's instructions, continuation lines
// joined, comments dropped.
func dockerfile(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile("Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	cur := ""
	for line := range strings.Lines(string(b)) {
		line = strings.TrimSpace(line)
		if strings.HasPrefix(line, "#") || (line == "" && cur == "") {
			continue
		}
		if more, ok := strings.CutSuffix(line, "\\"); ok {
			cur += more + " "
			continue
		}
		out = append(out, cur+line)
		cur = ""
	}
	return out
}

// instruction returns the arguments of the last Dockerfile instruction
// named name ("" if there is none).
func instruction(lines []string, name string) string {
	var got string
	for _, l := range lines {
		if k, rest, ok := strings.Cut(l, " "); ok && strings.EqualFold(k, name) {
			got = strings.TrimSpace(rest)
		}
	}
	return got
}

// execForm parses an exec-form (JSON array) command.
func execForm(t *testing.T, what, s string) []string {
	t.Helper()
	var argv []string
	if err := json.Unmarshal([]byte(s), &argv); err != nil || len(argv) == 0 {
		t.Fatalf("%s %q is not an exec-form JSON array: %v", what, s, err)
	}
	return argv
}

// TestDockerfileHealthcheck runs the image's HEALTHCHECK command, as the
// Dockerfile spells it, against the daemon built from this tree: it fails
// while nothing listens and passes once the daemon is ready. The image's
// SCHOOLWATCH_CONFIG_FILE must be the file its CMD runs, so that the check
// reads the same http.listen.
func TestDockerfileHealthcheck(t *testing.T) {
	lines := dockerfile(t)
	hc := instruction(lines, "HEALTHCHECK")
	opts, cmd, ok := strings.Cut(hc, "CMD ")
	if !ok {
		t.Fatalf("Dockerfile has no HEALTHCHECK ... CMD: %q", hc)
	}
	for _, o := range []string{"--interval=", "--timeout=", "--start-period=", "--retries="} {
		if !strings.Contains(opts, o) {
			t.Errorf("HEALTHCHECK does not set %s: %q", o, opts)
		}
	}
	argv := execForm(t, "HEALTHCHECK CMD", cmd)
	if argv[0] != "/usr/local/bin/schoolwatch" || !slices.Contains(argv, "healthcheck") {
		t.Fatalf("HEALTHCHECK runs %v, want /usr/local/bin/schoolwatch healthcheck", argv)
	}
	env := instruction(lines, "ENV")
	imageConfig, ok := strings.CutPrefix(env, "SCHOOLWATCH_CONFIG_FILE=")
	if !ok {
		t.Fatalf("Dockerfile ENV is %q, want SCHOOLWATCH_CONFIG_FILE=...", env)
	}
	runArgs := execForm(t, "CMD", instruction(lines, "CMD"))
	if i := slices.Index(runArgs, "-config"); i >= 0 && (i+1 >= len(runArgs) || runArgs[i+1] != imageConfig) {
		t.Errorf("CMD %v runs another config than SCHOOLWATCH_CONFIG_FILE=%s: the healthcheck would read the wrong http.listen", runArgs, imageConfig)
	}

	bin := buildDaemon(t)
	dir := t.TempDir()
	cfg := daemonConfig(t, dir, freePort(t))
	check := func() (string, error) {
		c := exec.Command(bin, argv[1:]...)
		c.Env = append(slices.DeleteFunc(os.Environ(), func(v string) bool { return strings.HasPrefix(v, "SCHOOLWATCH_") }),
			"SCHOOLWATCH_CONFIG_FILE="+cfg) // the image's ENV, pointing at this test's config
		out, err := c.CombinedOutput()
		return string(out), err
	}
	out, err := check()
	var ee *exec.ExitError
	if !errorsAs(err, &ee) || ee.ExitCode() != 1 {
		t.Fatalf("healthcheck with no daemon running: %v, want exit 1\n%s", err, out)
	}
	start(t, filepath.Join(dir, "daemon.log"), bin, "run", "-config", cfg)
	deadline := time.Now().Add(60 * time.Second)
	for {
		out, err = check()
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the HEALTHCHECK command did not pass within 60s of the daemon starting: %v\n%s", err, out)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if !strings.Contains(out, "/readyz: ready") {
		t.Errorf("healthcheck output %q, want the /readyz answer", out)
	}
}

func errorsAs(err error, ee **exec.ExitError) bool {
	e, ok := err.(*exec.ExitError)
	if ok {
		*ee = e
	}
	return ok
}

// dockerignore returns the patterns of ../.dockerignore.
func dockerignore(t *testing.T) []string {
	t.Helper()
	f, err := os.Open("../.dockerignore")
	if err != nil {
		t.Fatalf(".dockerignore: %v", err)
	}
	defer f.Close()
	var pats []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		l := strings.TrimSpace(sc.Text())
		if l != "" && !strings.HasPrefix(l, "#") {
			pats = append(pats, l)
		}
	}
	return pats
}

// ignored reports whether a .dockerignore pattern excludes path (slash
// separated, relative to the context), as Docker reads them: a pattern is
// anchored at the context's root, a leading **/ lets it start at any
// depth, and a pattern that matches a directory excludes what is in it.
func ignored(pats []string, path string) bool {
	parts := strings.Split(path, "/")
	for _, p := range pats {
		p = strings.Trim(p, "/")
		starts := []int{0}
		if rest, ok := strings.CutPrefix(p, "**/"); ok {
			p = rest
			starts = make([]int, len(parts))
			for i := range starts {
				starts[i] = i
			}
		}
		for _, i := range starts {
			for j := i + 1; j <= len(parts); j++ {
				if ok, _ := filepath.Match(p, strings.Join(parts[i:j], "/")); ok {
					return true
				}
			}
		}
	}
	return false
}

// TestDockerignore checks that the build context leaves out history,
// secrets, local state (demo mail and databases carry alert text) and
// built binaries, and keeps everything the Dockerfile copies and builds.
func TestDockerignore(t *testing.T) {
	pats := dockerignore(t)
	for _, p := range []string{".git/config", ".env", "var/mail/x.eml", "var/schoolwatch.db", "cmd/schoolwatch/schoolwatch",
		"schoolwatch", "deploy/var/x", "examples/x/schoolwatch.db-wal", "cmd/schoolwatch/blackbox/x.test"} {
		if !ignored(pats, p) {
			t.Errorf(".dockerignore lets %s into the build context", p)
		}
	}
	keep := []string{"go.mod", "go.sum"}
	for _, l := range dockerfile(t) {
		f := strings.Fields(l)
		if len(f) >= 3 && strings.EqualFold(f[0], "COPY") && !strings.HasPrefix(f[1], "--from") {
			for _, src := range f[1 : len(f)-1] {
				if !strings.HasPrefix(src, "--") && src != "." {
					keep = append(keep, strings.TrimPrefix(src, "./"))
				}
			}
		}
	}
	filepath.WalkDir("..", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.Name() == ".git" || d.Name() == "var" {
			if d != nil && d.IsDir() {
				return filepath.SkipDir
			}
			return err
		}
		if rel, _ := filepath.Rel("..", p); strings.HasSuffix(p, ".go") || strings.HasPrefix(rel, "guidance/") {
			keep = append(keep, filepath.ToSlash(rel))
		}
		return nil
	})
	if len(keep) < 50 {
		t.Fatalf("only %d files to keep: walked the wrong tree?", len(keep))
	}
	for _, p := range keep {
		if ignored(pats, p) {
			t.Errorf(".dockerignore leaves out %s, which the image needs", p)
		}
	}
}

// TestSystemdInstallStepsLeaveConfigReadable follows the unit's install
// steps for the config (owner, group and mode from its install line) in a
// scratch directory, and runs `schoolwatch check` on it as an unprivileged
// user in the unit's group, as ExecStartPre does. It also shows the check
// it makes can fail: the same file owned by root's group is unreadable.
// It needs root (to chown and to switch user).
func TestSystemdInstallStepsLeaveConfigReadable(t *testing.T) {
	unit, err := os.ReadFile("schoolwatch.service")
	if err != nil {
		t.Fatal(err)
	}
	u := string(unit)
	group := regexp.MustCompile(`(?m)^Group=(\S+)$`).FindStringSubmatch(u)
	user := regexp.MustCompile(`(?m)^User=(\S+)$`).FindStringSubmatch(u)
	if group == nil || user == nil {
		t.Fatal("the unit sets no User= or Group=")
	}
	if !regexp.MustCompile(`(?m)^#\s+useradd .*--system.*--user-group.* ` + regexp.QuoteMeta(user[1]) + `$`).MatchString(u) {
		t.Errorf("the install steps do not create the system user %s (useradd --system --user-group ... %s)", user[1], user[1])
	}
	line := regexp.MustCompile(`(?m)^#\s+install (.*) schoolwatch\.yml /etc/schoolwatch/schoolwatch\.yml$`).FindStringSubmatch(u)
	if line == nil {
		t.Fatal("no install line for /etc/schoolwatch/schoolwatch.yml in the unit's header")
	}
	args := strings.Fields(line[1])
	flag := func(name string) string {
		if i := slices.Index(args, name); i >= 0 && i+1 < len(args) {
			return args[i+1]
		}
		return ""
	}
	if flag("-g") != group[1] {
		t.Fatalf("the config is installed with group %q, want the unit's Group=%s, so that the service can read it", flag("-g"), group[1])
	}
	var mode uint32
	if _, err := fmt.Sscanf(flag("-m"), "%o", &mode); err != nil || mode&0o004 != 0 || mode&0o040 == 0 {
		t.Fatalf("the config's mode %q: want group-readable and not world-readable", flag("-m"))
	}
	if os.Geteuid() != 0 {
		t.Skip("needs root to chown the config and run check as another user")
	}

	bin := buildDaemon(t)
	// The test's own scratch directories (t.TempDir and its per-test parent,
	// both 0700) must let the service user in; nothing above them is touched.
	dir := t.TempDir()
	parent, tmp := filepath.Dir(dir), filepath.Clean(os.TempDir())
	if parent == tmp || filepath.Dir(parent) != tmp {
		t.Fatalf("t.TempDir() is %s: not the layout this test opens up (%s/TestX/001)", dir, tmp)
	}
	for _, d := range []string{parent, dir} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	cfg := daemonConfig(t, dir, freePort(t))
	if err := os.Chmod(cfg, os.FileMode(mode)); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(bin)
	runBin := filepath.Join(dir, "schoolwatch")
	os.WriteFile(runBin, b, 0o755)
	const svcUID, svcGID = 61234, 61234 // stand-ins for the user useradd creates
	checkAs := func() (string, error) {
		c := exec.Command(runBin, "check", "-config", cfg)
		c.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: svcUID, Gid: svcGID}}
		c.Dir = dir
		out, err := c.CombinedOutput()
		return string(out), err
	}
	if err := os.Chown(cfg, 0, svcGID); err != nil {
		t.Fatal(err)
	}
	if out, err := checkAs(); err != nil {
		t.Errorf("check as the service user on the config installed root:%s %o: %v\n%s", group[1], mode, err, out)
	}
	// The old steps left it root:root: the service user cannot read it.
	if err := os.Chown(cfg, 0, 0); err != nil {
		t.Fatal(err)
	}
	if out, err := checkAs(); err == nil || !strings.Contains(out, "permission denied") {
		t.Errorf("check as the service user on a root:root %o config: %v, want permission denied\n%s", mode, err, out)
	}
}
