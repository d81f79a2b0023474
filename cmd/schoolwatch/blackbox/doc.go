// Package blackbox tests the real schoolwatch binary from the outside: its
// tests build it once, start it as a separate process against feeds served
// on 127.0.0.1 and a real SMTP server on 127.0.0.1 (alerts/smtptest), and
// assert only on what an operator could see: the mail that arrives, the
// exit code, the logs, /metrics and /readyz, and the store file left
// behind. They cover outages and crashes (SMTP down, kill -9, a full or
// read-only disk, SIGHUP with a broken config, SIGTERM mid-send), hostile
// feeds, retention and log privacy. BenchmarkSoak (soak_test.go) is the
// load and soak harness; it runs only with -bench.
package blackbox
