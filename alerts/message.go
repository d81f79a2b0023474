package alerts

import (
	"bytes"
	"fmt"
	"net/mail"
	"os"
	"strings"
	"time"

	gomail "github.com/go-mail/mail/v2"
)

// Envelope is a mail's headers.
type Envelope struct {
	From, To, Subject, MessageID string
	Date                         time.Time
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
	m := gomail.NewMessage()
	m.SetAddressHeader("From", from.Address, from.Name)
	m.SetAddressHeader("To", to.Address, to.Name)
	m.SetHeader("Subject", SanitizeHeader(e.Subject, MaxSubjectLen))
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
