package mail

import (
	"bytes"
	"errors"
	"fmt"
	"io"
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

// Envelope is a mail's headers and attachments.
type Envelope struct {
	From, To, MessageID string
	// Subject is one line: BuildMessage refuses control characters, which
	// could start another header. Callers clean text from feeds first.
	Subject string
	Date    time.Time
	// Urgent marks the mail high priority (Importance: high, X-Priority:
	// 1), for a critical alert.
	Urgent bool
	// InReplyTo and References are Message-IDs of earlier mails this one
	// follows up, so that mail clients thread them.
	InReplyTo  string
	References []string
	// Attachments follow the text and HTML bodies.
	Attachments []Attachment
}

// Attachment is a file carried by a mail.
type Attachment struct {
	// Name is the file name: letters, digits, '.', '-' and '_' only, so it
	// needs no quoting or encoding in the MIME headers.
	Name string
	// ContentType defaults to text/plain; charset=utf-8.
	ContentType string
	// Data is sent as it is (base64 encoded), byte for byte.
	Data []byte
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

// validMessageID reports whether id is one "<left@right>" token with no
// space or control character, fit to stand in a header.
func validMessageID(id string) bool {
	if len(id) < 5 || id[0] != '<' || id[len(id)-1] != '>' || strings.Count(id, "@") != 1 {
		return false
	}
	for _, r := range id {
		if r <= ' ' || r >= 0x7f {
			return false
		}
	}
	return strings.Count(id, "<") == 1 && strings.Count(id, ">") == 1
}

// validFileName reports whether name is a plain attachment name.
func validFileName(name string) bool {
	if name == "" || len(name) > 100 || name[0] == '.' {
		return false
	}
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}

// BuildMessage renders a complete RFC 5322 message: multipart/alternative
// text and HTML, inside multipart/mixed when it has attachments. go-mail
// encodes non-ASCII headers and quoted-printable bodies; attachments are
// base64, so their bytes arrive exactly as given.
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
	if e.Urgent {
		m.SetHeader("Importance", "high")
		m.SetHeader("X-Priority", "1")
	}
	if e.InReplyTo != "" {
		if !validMessageID(e.InReplyTo) {
			return nil, fmt.Errorf("in-reply-to: %q is not a Message-ID", e.InReplyTo)
		}
		m.SetHeader("In-Reply-To", e.InReplyTo)
	}
	if len(e.References) > 0 {
		for _, id := range e.References {
			if !validMessageID(id) {
				return nil, fmt.Errorf("references: %q is not a Message-ID", id)
			}
		}
		m.SetHeader("References", strings.Join(e.References, " "))
	}
	m.SetBody("text/plain", text)
	if html != "" {
		m.AddAlternative("text/html", html)
	}
	for _, a := range e.Attachments {
		if !validFileName(a.Name) {
			return nil, fmt.Errorf("attachment: %q is not a plain file name", a.Name)
		}
		ct := a.ContentType
		if ct == "" {
			ct = "text/plain; charset=utf-8"
		}
		if strings.IndexFunc(ct, unicode.IsControl) >= 0 {
			return nil, fmt.Errorf("attachment %s: content type contains a control character", a.Name)
		}
		data := a.Data
		m.Attach(a.Name, gomail.SetCopyFunc(func(w io.Writer) error {
			_, err := w.Write(data)
			return err
		}), gomail.SetHeader(map[string][]string{"Content-Type": {ct + `; name="` + a.Name + `"`}}))
	}
	var b bytes.Buffer
	if _, err := m.WriteTo(&b); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
