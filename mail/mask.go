package mail

import (
	"regexp"
	"strings"
)

// SMTP replies quote addresses: Postfix answers a refused RCPT with
// "550 5.1.1 <head@school.example>: Recipient address rejected", and an
// AUTH failure may name the account. The text of a delivery error is logged
// and stored in the outbox, so addresses are masked before it leaves
// Deliver; the recipient is on the outbox row for whoever needs it.
var (
	angleAddrRE = regexp.MustCompile(`<[^<>]*@[^<>]*>`)
	bareAddrRE  = regexp.MustCompile(`(?:"[^"]*"|[^\s<>()\[\],;:"@]+)@(?:\[[^\]\s]*\]|[^\s<>()\[\],;:"@.]+(?:\.[^\s<>()\[\],;:"@.]+)*)`)
)

// MaskedAddress replaces an email address in SMTP error text.
const MaskedAddress = "<address>"

// MaskAddresses returns s with every email address, in angle brackets or
// bare, replaced by MaskedAddress.
func MaskAddresses(s string) string {
	if !strings.Contains(s, "@") {
		return s
	}
	s = angleAddrRE.ReplaceAllLiteralString(s, MaskedAddress)
	return bareAddrRE.ReplaceAllLiteralString(s, MaskedAddress)
}

// maskAddresses returns err with its text passed through MaskAddresses;
// errors.As still finds the reply's code through Unwrap.
func maskAddresses(err error) error {
	msg := err.Error()
	if m := MaskAddresses(msg); m != msg {
		return &maskedError{err: err, msg: m}
	}
	return err
}

type maskedError struct {
	err error
	msg string
}

func (e *maskedError) Error() string { return e.msg }
func (e *maskedError) Unwrap() error { return e.err }
