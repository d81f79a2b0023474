package mail

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/mail"
	"net/textproto"
	"os"
	"path/filepath"
	"strings"
	"time"

	gomail "github.com/go-mail/mail/v2"
)

// Deliverer hands one message to its destination. An error that retrying
// will not fix is a *PermanentError; any other is temporary.
type Deliverer interface {
	Deliver(ctx context.Context, m Message) error
}

// PermanentError marks a delivery failure that retrying will not fix
// (an SMTP 5xx reply such as 550 "no such user").
type PermanentError struct{ Err error }

func (e *PermanentError) Error() string { return "permanent: " + e.Err.Error() }
func (e *PermanentError) Unwrap() error { return e.Err }

// IsPermanent reports whether err is a permanent delivery failure.
func IsPermanent(err error) bool {
	var pe *PermanentError
	return errors.As(err, &pe)
}

// FileDeliverer writes each message as an .eml file in Dir: the delivery
// used when no SMTP server is configured. The file name comes from the
// message's creation time and content key, so redelivery after a crash
// rewrites the same file instead of adding a second.
type FileDeliverer struct{ Dir string }

// Deliver writes m atomically (temporary file, then rename).
func (d FileDeliverer) Deliver(ctx context.Context, m Message) error {
	if err := os.MkdirAll(d.Dir, 0o750); err != nil {
		return err
	}
	name := filepath.Join(d.Dir, FileName(m))
	tmp, err := os.CreateTemp(d.Dir, ".tmp-*.eml")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(m.Raw); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), name)
}

// FileName is the .eml file name for a message.
func FileName(m Message) string {
	return m.Created.UTC().Format("20060102T150405.000Z") + "-" + m.Key + ".eml"
}

// SMTPDeliverer sends through an SMTP relay with go-mail.
type SMTPDeliverer struct {
	dialer *gomail.Dialer
	from   string // envelope sender
}

// SMTPOptions say how to reach an SMTP relay.
type SMTPOptions struct {
	Host     string
	Port     int
	Username string // with Password, for AUTH; "" sends without
	Password string
	// TLS is "tls" (TLS from the start), "starttls" (required), "none", or
	// "" (STARTTLS when the server offers it; required when Username is
	// set, so a password never crosses the network in clear).
	TLS string
	// Timeout bounds one connection and send.
	Timeout time.Duration
	// InsecureSkipVerify disables certificate checks (test relays only).
	InsecureSkipVerify bool
	// From is the envelope sender, an address with or without a name.
	From string
}

// NewSMTPDeliverer returns a deliverer for the relay s. The only error is
// net/mail's, for a From that is not an address.
func NewSMTPDeliverer(s SMTPOptions) (*SMTPDeliverer, error) {
	from, err := mail.ParseAddress(s.From)
	if err != nil {
		return nil, err
	}
	d := gomail.NewDialer(s.Host, s.Port, s.Username, s.Password)
	d.Timeout = s.Timeout
	d.RetryFailure = false // the outbox owns retries
	d.TLSConfig = &tls.Config{ServerName: s.Host, InsecureSkipVerify: s.InsecureSkipVerify, MinVersion: tls.VersionTLS12}
	switch s.TLS {
	case "tls":
		d.SSL = true
	case "starttls":
		d.StartTLSPolicy = gomail.MandatoryStartTLS
	case "none":
		d.StartTLSPolicy = gomail.NoStartTLS
	default:
		d.StartTLSPolicy = gomail.OpportunisticStartTLS
		if s.Username != "" {
			d.StartTLSPolicy = gomail.MandatoryStartTLS
		}
	}
	if h, err := os.Hostname(); err == nil && h != "" {
		d.LocalName = h
	}
	return &SMTPDeliverer{dialer: d, from: from.Address}, nil
}

// Deliver sends one message. Errors are classified: a 5xx reply to the
// message (MAIL, RCPT, DATA) is permanent; everything else (4xx, refused
// connections, timeouts) is temporary. A failure while connecting, say a
// TLS or AUTH (535) rejection, is temporary whatever its code: it is about
// the relay's settings, not this message, and giving up would throw away
// every queued alert because of one wrong password. The outbox keeps
// retrying at the capped backoff and logs each failure until it is fixed.
func (d *SMTPDeliverer) Deliver(ctx context.Context, m Message) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	sc, err := d.dialer.Dial()
	if err != nil {
		return fmt.Errorf("connect to the SMTP server: %w", maskAddresses(err))
	}
	if err := sc.Send(d.from, []string{m.Recipient}, rawMessage(m.Raw)); err != nil {
		sc.Close()
		return classifySMTP(maskAddresses(err))
	}
	// The server accepted the message at the end of DATA: it is delivered.
	// A failed QUIT after that must not count as a failure, or the retry
	// would send it twice.
	sc.Close()
	return nil
}

type rawMessage []byte

func (r rawMessage) WriteTo(w io.Writer) (int64, error) {
	return bytes.NewReader(r).WriteTo(w)
}

func classifySMTP(err error) error {
	if err == nil {
		return nil
	}
	var tp *textproto.Error
	if errors.As(err, &tp) && tp.Code >= 500 {
		return &PermanentError{Err: err}
	}
	var ne net.Error
	if errors.As(err, &ne) {
		return err
	}
	// go-mail wraps replies in its own error strings; fall back to the code.
	msg := err.Error()
	if i := strings.IndexAny(msg, "0123456789"); i >= 0 && len(msg) >= i+3 && msg[i] == '5' && isCode(msg[i:i+3]) {
		if strings.HasPrefix(msg[i:], msg[i:i+3]+" ") {
			return &PermanentError{Err: err}
		}
	}
	return err
}

func isCode(s string) bool {
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}
