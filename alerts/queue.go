package alerts

import (
	"context"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/schoolwatch/schoolwatch/mail"
	"github.com/schoolwatch/schoolwatch/store"
)

// Outbox is where alerts writes its mail; *store.Store implements it.
// Enqueue stores m and, in the same transaction, deletes the pending rows
// it carries and logs (recipient, item) for each item key; it reports false
// when a mail with m's key was already queued.
type Outbox interface {
	Enqueue(ctx context.Context, now time.Time, m store.Message, pendingIDs []int64, itemKeys []string) (bool, error)
}

// Letterhead is what every mail alerts writes shares: who it is from, how
// its subject starts, the host of its Message-ID, and the clock and time
// zone of its dates.
type Letterhead struct {
	From          string // "Name <addr>"
	SubjectPrefix string
	// Host is the right-hand side of Message-IDs; "" means
	// schoolwatch.invalid.
	Host string
	// Location is the time zone of the dates in the mail; nil means UTC.
	Location *time.Location
	// Now is the clock of notices and heartbeats; nil means time.Now.
	// Alerts and digests are dated by the grouper's caller.
	Now func() time.Time
}

func (lh *Letterhead) now() time.Time {
	if lh.Now != nil {
		return lh.Now()
	}
	return time.Now()
}

func (lh *Letterhead) location() *time.Location {
	if lh.Location == nil {
		return time.UTC
	}
	return lh.Location
}

// draft is one mail before it is rendered.
type draft struct {
	key       string // content key: the same content gets the same key
	kind      mail.Kind
	to        string // the To header: an address, with or without a name
	recipient string // the envelope recipient, stored on the outbox row
	subject   string // from subjectLine
	body      templates
	data      any
	// urgent marks a critical alert (Importance: high).
	urgent bool
	// inReplyTo and references are the Message-IDs of the earlier mails
	// about the same posts.
	inReplyTo  string
	references []string
	// attachments are the evidence records and letters.
	attachments []mail.Attachment
	// digestEvidence gathers a digest's records into one attachment.
	digestEvidence []string
}

// subjectLine is a subject: the prefix and then s, which brings its own
// separator, cleaned and capped like all displayed text since feed text
// reaches it.
func (lh *Letterhead) subjectLine(s string) string {
	return SanitizeText(lh.SubjectPrefix+s, MaxSubjectLen)
}

// compose renders d into an outbox row dated now.
func (lh *Letterhead) compose(d draft, now time.Time) (store.Message, error) {
	text, html, err := d.body.execute(d.data)
	if err != nil {
		return store.Message{}, fmt.Errorf("render %s: %w", d.kind, err)
	}
	raw, err := mail.BuildMessage(mail.Envelope{
		From: lh.From, To: d.to, Subject: d.subject, MessageID: mail.MessageID(d.key, lh.Host), Date: now,
		Urgent: d.urgent, InReplyTo: d.inReplyTo, References: d.references, Attachments: d.attachments,
	}, text, html)
	if err != nil {
		return store.Message{}, fmt.Errorf("build %s: %w", d.kind, err)
	}
	return store.Message{Key: d.key, Kind: string(d.kind), Recipient: d.recipient, Subject: d.subject, Raw: raw}, nil
}

// queue is the one way alerts sends mail: it renders d, writes it to the
// outbox with write, which carries the store changes that must land in the
// same transaction, and once the outbox has it calls wake (if set) so the
// sender looks at once. It reports whether the mail is new: a key already
// in the outbox is not queued twice.
func (lh *Letterhead) queue(ctx context.Context, now time.Time, d draft, write func(context.Context, time.Time, store.Message) (bool, error), wake func()) (bool, error) {
	m, err := lh.compose(d, now)
	if err != nil {
		return false, err
	}
	added, err := write(ctx, now, m)
	if err != nil {
		return false, err
	}
	if added && wake != nil {
		wake()
	}
	return added, nil
}

// contentKey is a mail's content key: its kind and the first n hex digits
// of the digest of what it covers.
func contentKey(kind mail.Kind, sum []byte, n int) string {
	return string(kind) + "-" + hex.EncodeToString(sum)[:n]
}
