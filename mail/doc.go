// Package mail is schoolwatch's mail transport: it builds RFC 5322
// messages (BuildMessage) and drains the store's outbox (Sender).
//
// Every mail is written to the outbox before any attempt to send it. The
// Sender hands each due message to a Deliverer, over SMTP (SMTPDeliverer)
// or as an .eml file (FileDeliverer), marks it sent, and on a temporary
// failure schedules the next attempt with exponential backoff; a permanent
// one (PermanentError) is recorded and not retried. The package knows
// nothing of schools, rules or feeds: package alerts decides what to say
// and to whom, and queues it.
package mail
