// Package deploy holds no Go code: the folder carries the Dockerfile, the
// systemd unit, the Prometheus configuration and alerting rules, and the
// Grafana provisioning and dashboard used by docker-compose.yml. Its tests
// check them with the real tools (promtool, a running Prometheus scraping
// the daemon, docker-compose, systemd-analyze), so they cannot rot.
package deploy
