// Command schoolwatch watches public feeds for posts about configured
// schools and emails school leaders alerts that carry the right guidance.
//
//	schoolwatch run      -config FILE   run the daemon
//	schoolwatch once     -config FILE   poll every feed once and print findings (--send to mail them)
//	schoolwatch check    -config FILE   validate the config
//	schoolwatch healthcheck             exit 0 if the running daemon answers /readyz
//	schoolwatch guidance [ID]           list or print guidance sections
//	schoolwatch version
//
// main parses flags and wires the packages together; the packages do the work.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"
	"time"
	_ "time/tzdata" // time zones work in minimal containers too

	"github.com/schoolwatch/schoolwatch/daemon"
)

// command is one subcommand.
type command struct {
	name    string
	usage   string // one line: arguments and purpose
	summary string
	// run executes the command; a returned error is printed and exits 1.
	run func(ctx context.Context, env *env, args []string) error
}

// env is what every command gets: its output streams and common flags.
type env struct {
	stdout, stderr io.Writer
	configPath     string
	logLevel       string
	logFormat      string
	// listenAddress overrides http.listen (run, healthcheck); "" keeps it.
	listenAddress string
	listenSet     bool // listenAddress was initialised from the environment
}

// Environment variables that stand in for flags: a flag given on the
// command line wins over the variable, and the variable over the config.
const (
	envConfigFile    = "SCHOOLWATCH_CONFIG_FILE"        // -config, --config.file
	envListenAddress = "SCHOOLWATCH_WEB_LISTEN_ADDRESS" // --web.listen-address
)

var commands = map[string]*command{}

func register(c *command) { commands[c.name] = c }

// exitError carries a specific exit code.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := Main(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// Main runs the command line and returns the exit code.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	e := &env{stdout: stdout, stderr: stderr}
	global := e.flags("schoolwatch")
	global.Usage = func() { usage(stderr) }
	if err := global.Parse(args); err != nil {
		return 2
	}
	args = global.Args()
	if len(args) == 0 {
		usage(stderr)
		return 2
	}
	name := args[0]
	switch name {
	case "help", "-h", "--help":
		usage(stdout)
		return 0
	case "-version", "--version":
		name = "version"
	}
	c, ok := commands[name]
	if !ok {
		fmt.Fprintf(stderr, "schoolwatch: unknown command %q\n\n", name)
		usage(stderr)
		return 2
	}
	err := c.run(ctx, e, args[1:])
	if err == nil {
		return 0
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.err != nil && ee.err.Error() != "" {
			fmt.Fprintln(stderr, ee.err)
		}
		return ee.code
	}
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	fmt.Fprintf(stderr, "schoolwatch %s: %v\n", name, err)
	return 1
}

// flags returns a flag set with the common flags bound to e.
func (e *env) flags(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	if e.configPath == "" {
		e.configPath = "schoolwatch.yml"
		if v := os.Getenv(envConfigFile); v != "" {
			e.configPath = v
		}
	}
	if e.logLevel == "" {
		e.logLevel = "info"
	}
	if e.logFormat == "" {
		e.logFormat = "text"
	}
	fs.StringVar(&e.configPath, "config", e.configPath, "config `FILE` (environment: "+envConfigFile+")")
	fs.StringVar(&e.configPath, "config.file", e.configPath, "config `FILE`, the same as -config (Prometheus's spelling)")
	fs.StringVar(&e.logLevel, "log-level", e.logLevel, "log level: debug, info, warn, error")
	fs.StringVar(&e.logFormat, "log-format", e.logFormat, "log format: text or json")
	return fs
}

// listenFlag adds --web.listen-address to fs: the address to serve
// /metrics, /healthz and /readyz on, overriding http.listen ("off" turns
// the server off). Its default comes from SCHOOLWATCH_WEB_LISTEN_ADDRESS.
func (e *env) listenFlag(fs *flag.FlagSet) {
	if !e.listenSet {
		e.listenAddress = os.Getenv(envListenAddress)
		e.listenSet = true
	}
	fs.StringVar(&e.listenAddress, "web.listen-address", e.listenAddress,
		"`ADDR` to serve /metrics and health on, overriding http.listen (environment: "+envListenAddress+")")
}

// parse parses args allowing flags before, between and after positional
// arguments (schoolwatch guidance ID -config F), and returns the positionals.
func parse(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		if rest[0] == "--" {
			return append(pos, rest[1:]...), nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// parseArgs is parse for a command: a usage error exits 2.
func parseArgs(fs *flag.FlagSet, args []string) ([]string, error) {
	pos, err := parse(fs, args)
	if err != nil {
		return nil, &exitError{code: 2}
	}
	return pos, nil
}

// load loads and compiles the config named by -config; a bad config exits 1
// with every problem listed.
func (e *env) load() (*daemon.Plan, error) {
	s, err := daemon.Compile(e.configPath, time.Now())
	if err != nil {
		return nil, &exitError{code: 1, err: err}
	}
	return s, nil
}

func (e *env) logger() *slog.Logger {
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(e.logLevel)); err != nil {
		lvl = slog.LevelInfo
	}
	opts := &slog.HandlerOptions{Level: lvl, ReplaceAttr: durationsAsText}
	if e.logFormat == "json" {
		return slog.New(slog.NewJSONHandler(e.stderr, opts))
	}
	return slog.New(slog.NewTextHandler(e.stderr, opts))
}

// durationsAsText writes durations as Go duration strings ("1.5s", "20s")
// in every log format. slog's JSON handler would write them as integer
// nanoseconds, which no reader of a log can take in at a glance.
func durationsAsText(_ []string, a slog.Attr) slog.Attr {
	if a.Value.Kind() == slog.KindDuration {
		a.Value = slog.StringValue(a.Value.Duration().String())
	}
	return a
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: schoolwatch COMMAND [flags] [args]")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "commands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		c := commands[n]
		fmt.Fprintf(w, "  %-10s %s\n", n, c.summary)
		if c.usage != "" {
			fmt.Fprintf(w, "  %-10s   schoolwatch %s %s\n", "", n, c.usage)
		}
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "common flags: -config FILE (default schoolwatch.yml), -log-level LEVEL, -log-format text|json")
	fmt.Fprintln(w, "  --config.file FILE is the same as -config; "+envConfigFile+" sets the default.")
	fmt.Fprintln(w, "  run and healthcheck take --web.listen-address ADDR (default from "+envListenAddress+", else http.listen).")
	fmt.Fprintln(w, strings.TrimSpace(`
The config file's format is described in README.md.`))
}

// location is the time zone a plan's times are printed in.
func location(p *daemon.Plan) *time.Location {
	if p.Config.Location != nil {
		return p.Config.Location
	}
	return time.Local
}
