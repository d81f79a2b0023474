package watchers

import (
	"regexp"
	"strings"
)

// Redacted replaces secrets taken out of a feed URL.
const Redacted = "REDACTED"

// RedactURL returns raw without what commonly carries a secret: the
// userinfo (https://user:token@host/) is dropped, and every query value
// (?key=…, a bare ?token) and the fragment become Redacted. Private feeds
// often put an access key there, and the URL reaches logs, the stored last
// error and `status`; the scheme, host and path are kept so an operator
// can still tell which feed failed. It works on the text rather
// than through url.Parse, so a malformed or truncated URL is redacted too.
func RedactURL(raw string) string {
	rest := raw
	var b strings.Builder
	b.Grow(len(raw))
	if i := strings.Index(rest, "://"); i >= 0 {
		b.WriteString(rest[:i+3])
		rest = rest[i+3:]
		end := strings.IndexAny(rest, "/?#")
		if end < 0 {
			end = len(rest)
		}
		if at := strings.LastIndexByte(rest[:end], '@'); at >= 0 {
			// Dropped, not replaced: "REDACTED@host" reads as an address.
			rest = rest[at+1:]
		}
	}
	frag := ""
	if i := strings.IndexByte(rest, '#'); i >= 0 {
		rest, frag = rest[:i], rest[i+1:]
	}
	if i := strings.IndexByte(rest, '?'); i >= 0 {
		b.WriteString(rest[:i+1])
		b.WriteString(redactQuery(rest[i+1:]))
	} else {
		b.WriteString(rest)
	}
	if frag != "" {
		b.WriteString("#" + Redacted)
	}
	return b.String()
}

// redactQuery keeps a query's keys, which say what kind of parameter it
// was, and replaces its values; a part without "=" may itself be a token.
func redactQuery(q string) string {
	if q == "" {
		return ""
	}
	parts := strings.FieldsFunc(q, func(r rune) bool { return r == '&' || r == ';' })
	for i, p := range parts {
		if k, _, ok := strings.Cut(p, "="); ok {
			parts[i] = k + "=" + Redacted
		} else {
			parts[i] = Redacted
		}
	}
	return strings.Join(parts, "&")
}

// urlInText finds URLs inside free text such as an error message: an
// absolute URL, or any other word with a query (a redirect's relative
// Location). Go's net/http quotes them (Get "https://…": …), so a URL ends
// at a quote, space or angle bracket.
var urlInText = regexp.MustCompile(`[A-Za-z][A-Za-z0-9+.-]*://` + urlChars + `+|[^\s"'<>` + "`" + `?]*\?` + urlChars + `+`)

const urlChars = `[^\s"'<>` + "`" + `]`

// RedactText applies RedactURL to every URL in s.
func RedactText(s string) string {
	if !strings.Contains(s, "://") && !strings.Contains(s, "?") {
		return s
	}
	return urlInText.ReplaceAllStringFunc(s, RedactURL)
}

// RedactError returns err with every URL in its message redacted (see
// RedactURL); errors.Is and errors.As still see the original chain, so its
// class and Retry-After survive. It returns nil for nil.
func RedactError(err error) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	red := RedactText(msg)
	if red == msg {
		return err
	}
	return &redactedError{err: err, msg: red}
}

type redactedError struct {
	err error
	msg string
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }
