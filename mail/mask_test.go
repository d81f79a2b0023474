package mail

import (
	"context"
	"errors"
	"io"
	"net"
	"net/textproto"
	"strings"
	"testing"
	"time"

	smtp "github.com/emersion/go-smtp"
)

func TestMaskAddresses(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"postfix rcpt", "550 5.1.1 <head@school.example>: Recipient address rejected: User unknown",
			"550 5.1.1 <address>: Recipient address rejected: User unknown"},
		{"bare", "550 mailbox head@school.example unavailable", "550 mailbox <address> unavailable"},
		{"bare at end of sentence", "no such user head.teacher+x@mail.school.example.", "no such user <address>."},
		{"quoted local part", `550 "o head"@school.example refused`, "550 <address> refused"},
		{"address literal", "550 bob@[192.0.2.1] refused", "550 <address> refused"},
		{"non-ASCII", "550 <élève@école.example> refused", "550 <address> refused"},
		{"two", "452 <a@x.example> and b@y.example", "452 <address> and <address>"},
		{"no address", "421 4.7.0 try again later", "421 4.7.0 try again later"},
		{"empty brackets", "250 <> ok", "250 <> ok"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := MaskAddresses(tc.in); got != tc.want {
				t.Errorf("MaskAddresses(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

// rcptRejecter is a go-smtp backend that refuses every recipient the way
// Postfix does, quoting the address, with code.
type rcptRejecter struct{ code int }

func (b rcptRejecter) NewSession(*smtp.Conn) (smtp.Session, error) { return rejectSession(b), nil }

type rejectSession rcptRejecter

func (rejectSession) Mail(string, *smtp.MailOptions) error { return nil }
func (s rejectSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	return &smtp.SMTPError{Code: s.code, EnhancedCode: smtp.EnhancedCode{s.code / 100, 1, 1}, Message: "<" + to + ">: Recipient address rejected: User unknown in local recipient table"}
}
func (rejectSession) Data(r io.Reader) error { _, err := io.Copy(io.Discard, r); return err }
func (rejectSession) Reset()                 {}
func (rejectSession) Logout() error          { return nil }

// TestDeliverMasksRecipientInReply delivers to a real SMTP server on
// 127.0.0.1 that refuses the recipient with its address in the reply, once
// permanently (550) and once temporarily (450): the error keeps its class
// and code but not the address.
func TestDeliverMasksRecipientInReply(t *testing.T) {
	for _, code := range []int{550, 450} {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		srv := smtp.NewServer(rcptRejecter{code: code})
		srv.Domain = "reject.test"
		srv.ReadTimeout, srv.WriteTimeout = 5*time.Second, 5*time.Second
		go srv.Serve(ln)
		t.Cleanup(func() { srv.Close() })
		port := ln.Addr().(*net.TCPAddr).Port
		d, err := NewSMTPDeliverer(SMTPOptions{From: "schoolwatch <alerts@example.org>",
			Host: "127.0.0.1", Port: port, TLS: "none", Timeout: 5 * time.Second,
		})
		if err != nil {
			t.Fatal(err)
		}
		err = d.Deliver(context.Background(), Message{Key: "k", Recipient: "head@school.example", Raw: []byte("Subject: x\r\n\r\nhi\r\n")})
		if err == nil {
			t.Fatalf("%d: delivered; want a refusal", code)
		}
		if strings.Contains(err.Error(), "@") || strings.Contains(err.Error(), "head") {
			t.Errorf("%d: the error names the recipient: %v", code, err)
		}
		if !strings.Contains(err.Error(), "<address>: Recipient address rejected") {
			t.Errorf("%d: the reply text is lost: %v", code, err)
		}
		if got, want := IsPermanent(err), code >= 500; got != want {
			t.Errorf("%d: permanent = %v, want %v (%v)", code, got, want, err)
		}
		var tp *textproto.Error
		if errors.As(err, &tp) && tp.Code != code {
			t.Errorf("reply code %d, want %d", tp.Code, code)
		}
	}
}
