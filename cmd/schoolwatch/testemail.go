package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/schoolwatch/schoolwatch/alerts"
	"github.com/schoolwatch/schoolwatch/daemon"
	"github.com/schoolwatch/schoolwatch/mail"
)

func init() {
	register(&command{
		name:    "test-email",
		usage:   "--to ADDR -config FILE",
		summary: "send one test mail through the configured delivery and report the result",
		run:     runTestEmail,
	})
}

func runTestEmail(ctx context.Context, e *env, args []string) error {
	fs := e.flags("test-email")
	to := fs.String("to", "", "recipient `ADDR`")
	if _, err := parseArgs(fs, args); err != nil {
		return err
	}
	if *to == "" {
		return &exitError{code: 2, err: errors.New("schoolwatch test-email: --to ADDR is required")}
	}
	s, err := e.load()
	if err != nil {
		return err
	}
	cfg := s.Config
	now := time.Now()
	key := fmt.Sprintf("test-%d", now.UnixNano())
	raw, err := mail.BuildMessage(mail.Envelope{
		From: cfg.Mail.From, To: *to, Subject: alerts.SanitizeText(cfg.Mail.SubjectPrefix+" Test message", alerts.MaxSubjectLen),
		MessageID: mail.MessageID(key, mail.Hostname()), Date: now,
	}, "This is a test message from schoolwatch. If you can read it, alerts can reach you.\n", "<p>This is a test message from schoolwatch. If you can read it, alerts can reach you.</p>")
	if err != nil {
		return err
	}
	d, where, err := daemon.Deliverer(cfg)
	if err != nil {
		return err
	}
	m := mail.Message{Key: key, Kind: mail.KindTest, Recipient: *to, Raw: raw, Created: now}
	if err := d.Deliver(ctx, m); err != nil {
		return fmt.Errorf("delivery %s failed: %w", where, err)
	}
	fmt.Fprintf(e.stdout, "test mail to %s delivered %s\n", *to, where)
	return nil
}
