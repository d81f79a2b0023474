package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/schoolwatch/schoolwatch/config"
)

func init() {
	register(&command{
		name:    "healthcheck",
		usage:   "[-config FILE | --web.listen-address ADDR | -url URL] [-path /readyz|/healthz] [-timeout 5s]",
		summary: "exit 0 if the running daemon answers /readyz with 200, else 1 (for container HEALTHCHECKs: distroless has no curl)",
		run:     runHealthcheck,
	})
}

// runHealthcheck GETs the daemon's readiness (or liveness) endpoint: at
// -url if given, else at --web.listen-address (or its environment
// variable), else at the config's http.listen. It prints the answer and
// exits 0 on 200, 1 on anything else, including no answer in -timeout.
func runHealthcheck(ctx context.Context, e *env, args []string) error {
	fs := e.flags("healthcheck")
	e.listenFlag(fs)
	rawURL := fs.String("url", "", "`URL` to GET, instead of one made from --web.listen-address or http.listen")
	path := fs.String("path", "/readyz", "`PATH` to GET: /readyz (polling and mailing) or /healthz (the process answers)")
	timeout := fs.Duration("timeout", 5*time.Second, "give up after this `DURATION`")
	if _, err := parseArgs(fs, args); err != nil {
		return err
	}
	target := *rawURL
	if target == "" {
		base, err := e.healthBase()
		if err != nil {
			return &exitError{code: 1, err: fmt.Errorf("schoolwatch healthcheck: %w", err)}
		}
		if !strings.HasPrefix(*path, "/") {
			*path = "/" + *path
		}
		target = base + *path
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return &exitError{code: 2, err: fmt.Errorf("schoolwatch healthcheck: %w", err)}
	}
	// No proxy: the daemon is on this host, whatever HTTP_PROXY says.
	client := &http.Client{Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true}}
	resp, err := client.Do(req)
	if err != nil {
		return &exitError{code: 1, err: fmt.Errorf("schoolwatch healthcheck: unhealthy: %w", err)}
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
	answer := strings.TrimSpace(string(body))
	if resp.StatusCode != http.StatusOK {
		return &exitError{code: 1, err: fmt.Errorf("schoolwatch healthcheck: unhealthy: GET %s: %s: %s", target, resp.Status, answer)}
	}
	fmt.Fprintf(e.stdout, "GET %s: %s\n", target, answer)
	return nil
}

// healthBase returns http://HOST:PORT of the daemon's HTTP server, from
// --web.listen-address or else the config's http.listen.
func (e *env) healthBase() (string, error) {
	listen, from := e.listenAddress, "--web.listen-address"
	if listen == "" {
		cfg, err := config.Load(e.configPath)
		if err != nil {
			return "", err
		}
		if cfg.HTTP.WebConfig != "" {
			// TLS and basic auth are the web config's; this check speaks plain HTTP.
			return "", fmt.Errorf("%s sets http.web_config (TLS or basic auth): give -url, e.g. -url https://127.0.0.1:9464/readyz", e.configPath)
		}
		listen, from = cfg.HTTP.Listen, "http.listen in "+e.configPath
	}
	if listen == "off" || listen == "" {
		return "", fmt.Errorf("%s is off: there is no HTTP server to check", from)
	}
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		return "", fmt.Errorf("%s: want host:port, got %q", from, listen)
	}
	if port == "0" {
		return "", fmt.Errorf("%s has port 0 (any free port): give the port the daemon chose", from)
	}
	// A wildcard address listens on loopback too.
	switch host {
	case "", "0.0.0.0":
		host = "127.0.0.1"
	case "::":
		host = "::1"
	}
	return "http://" + net.JoinHostPort(host, port), nil
}
