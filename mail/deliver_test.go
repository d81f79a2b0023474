package mail

import (
	"context"
	"testing"
	"time"

	"github.com/schoolwatch/schoolwatch/alerts/smtptest"
)

// TestSMTPModes delivers through each mail.smtp.tls mode with AUTH PLAIN
// against a real server on 127.0.0.1. go-mail refuses PLAIN over an
// unencrypted link to anything but "localhost", so the "none" case dials
// localhost; the TLS cases use a self-signed certificate.
func TestSMTPModes(t *testing.T) {
	tests := []struct {
		name     string
		mode     string
		start    func(testing.TB) *smtptest.Server
		host     string
		password string
		wantErr  bool
	}{
		{"none with auth on localhost", "none", smtptest.Start, "localhost", "secret", false},
		{"starttls with auth", "starttls", func(t testing.TB) *smtptest.Server { return smtptest.StartTLS(t, false) }, "127.0.0.1", "secret", false},
		{"implicit tls with auth", "tls", func(t testing.TB) *smtptest.Server { return smtptest.StartTLS(t, true) }, "127.0.0.1", "secret", false},
		{"starttls required but not offered", "starttls", smtptest.Start, "127.0.0.1", "secret", true},
		{"default with auth: starttls required, offered", "", func(t testing.TB) *smtptest.Server { return smtptest.StartTLS(t, false) }, "127.0.0.1", "secret", false},
		{"default with auth: starttls required, not offered", "", smtptest.Start, "localhost", "secret", true},
		{"wrong password", "starttls", func(t testing.TB) *smtptest.Server { return smtptest.StartTLS(t, false) }, "127.0.0.1", "wrong", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := tc.start(t)
			srv.RequireAuth("alerts", "secret")
			d, err := NewSMTPDeliverer(SMTPOptions{From: "schoolwatch <alerts@example.org>",
				Host: tc.host, Port: srv.Port(), TLS: tc.mode, Username: "alerts", Password: tc.password,
				Timeout: 5 * time.Second, InsecureSkipVerify: true,
			})
			if err != nil {
				t.Fatal(err)
			}
			raw, err := BuildMessage(Envelope{From: "schoolwatch <alerts@example.org>", To: "dsl@x.org", Subject: "mode test",
				MessageID: MessageID("test-1", "test.invalid"), Date: time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)}, "hello\n", "<p>hello</p>")
			if err != nil {
				t.Fatal(err)
			}
			err = d.Deliver(context.Background(), Message{Key: "test-1", Recipient: "dsl@x.org", Raw: raw})
			if tc.wantErr {
				if err == nil {
					t.Fatalf("delivered; want an error")
				}
				if IsPermanent(err) {
					t.Errorf("a connection or AUTH failure must stay retryable (the relay's settings, not the message): %v", err)
				}
				if n := len(srv.Messages()); n != 0 {
					t.Errorf("server accepted %d mails", n)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if msgs := srv.Messages(); len(msgs) != 1 || msgs[0].To[0] != "dsl@x.org" {
				t.Fatalf("server got %+v", msgs)
			}
		})
	}
}
