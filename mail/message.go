package mail

import (
	"bytes"
	"errors"
	"fmt"
	"net/mail"
	"os"
	"strings"
	"time"
	"unicode"

	gomail "github.com/go-mail/mail/v2"
)

// Kind is what a mail is for. It is stored on the outbox row, logged, and
// labels schoolwatch_mails_queued_total.
type Kind string

// The kinds of mail schoolwatch writes.
const (
	KindAlert     Kind = "alert"     // findings for one leader and school, sent at once
	KindDigest    Kind = "digest"    // a leader's daily digest
	KindNotice    Kind = "notice"    // feed health, to the operator
	KindHeartbeat Kind = "heartbeat" // the weekly "all quiet" mail to a leader
	KindTest      Kind = "test"      // `schoolwatch test-email`
)

// Kinds are every kind of mail.
var Kinds = []Kind{KindAlert, KindDigest, KindNotice, KindHeartbeat, KindTest}

// Message is one complete mail to deliver: what a Deliverer needs, and no
// more. The outbox's rows carry their delivery state besides.
type Message struct {
	Key       string // content key; also the basis of the Message-ID
	Kind      Kind
	Recipient string // the envelope recipient (RCPT TO)
	Raw       []byte // the complete RFC 5322 message
	Created   time.Time
}

// Envelope is a mail's headers.
type Envelope struct {
	From, To, MessageID string
	// Subject is one line: BuildMessage refuses control characters, which
	// could start another header. Callers clean text from feeds first.
	Subject string
	Date    time.Time
}

// MessageID derives a stable Message-ID from a content key, so that a mail
// resent after a crash between "sent" and "marked sent" is recognisable as
// the same message by mail clients.
func MessageID(key, host string) string {
	if host == "" {
		host = "schoolwatch.invalid"
	}
	return "<" + key + "@" + host + ">"
}

// Hostname returns a host name for Message-IDs.
func Hostname() string {
	h, err := os.Hostname()
	if err != nil || h == "" || strings.ContainsAny(h, "<>@ ") {
		return "schoolwatch.invalid"
	}
	return h
}

// errSubjectControl is BuildMessage's answer to a subject that is not one line.
var errSubjectControl = errors.New("subject: contains a control character")

// BuildMessage renders a complete multipart/alternative RFC 5322 message.
// go-mail encodes non-ASCII headers and quoted-printable bodies.
func BuildMessage(e Envelope, text, html string) ([]byte, error) {
	from, err := mail.ParseAddress(e.From)
	if err != nil {
		return nil, fmt.Errorf("from address: %w", err)
	}
	to, err := mail.ParseAddress(e.To)
	if err != nil {
		return nil, fmt.Errorf("to address: %w", err)
	}
	if strings.IndexFunc(e.Subject, unicode.IsControl) >= 0 {
		return nil, errSubjectControl
	}
	m := gomail.NewMessage()
	m.SetAddressHeader("From", from.Address, from.Name)
	m.SetAddressHeader("To", to.Address, to.Name)
	m.SetHeader("Subject", e.Subject)
	m.SetHeader("Message-ID", e.MessageID)
	m.SetDateHeader("Date", e.Date)
	m.SetHeader("Auto-Submitted", "auto-generated")
	m.SetHeader("X-Auto-Response-Suppress", "All")
	m.SetBody("text/plain", text)
	if html != "" {
		m.AddAlternative("text/html", html)
	}
	var b bytes.Buffer
	if _, err := m.WriteTo(&b); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
