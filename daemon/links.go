package daemon

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/schoolwatch/schoolwatch/alerts"
	"github.com/schoolwatch/schoolwatch/config"
	"github.com/schoolwatch/schoolwatch/store"
)

// The actions a link can carry.
const (
	actAcknowledge = "ack"
	actNotRelevant = "irrelevant"
	actMute        = "mute"
)

// linkTTL is how long an action link works after its mail was written.
const linkTTL = 30 * 24 * time.Hour

// linkClaims is what a token names: one alert (school, post, recipient),
// one action, and when the token stops working.
type linkClaims struct {
	School    string `json:"s"`
	Item      string `json:"i"`
	Recipient string `json:"r"`
	Action    string `json:"a"`
	Expires   int64  `json:"e"` // Unix seconds
}

// linker signs and checks action links.
type linker struct {
	key     []byte
	base    string // public_url without a trailing slash
	muteFor time.Duration
}

var errBadToken = errors.New("this link is not valid")

// linkKey is the key that signs links: http.link_key_file's content, or
// the store's generated key.
func linkKey(ctx context.Context, cfg *config.Config, st *store.Store) ([]byte, error) {
	if cfg.HTTP.LinkKeyFile == "" {
		return st.LinkKey(ctx)
	}
	b, err := os.ReadFile(cfg.Resolve(cfg.HTTP.LinkKeyFile))
	if err != nil {
		return nil, fmt.Errorf("http.link_key_file: %w", err)
	}
	b = bytes.TrimSpace(b)
	if len(b) < 16 {
		return nil, fmt.Errorf("http.link_key_file: the key must be at least 16 bytes, it has %d", len(b))
	}
	return b, nil
}

func (l *linker) mac(parts ...string) []byte {
	m := hmac.New(sha256.New, l.key)
	for _, p := range parts {
		m.Write([]byte(p))
		m.Write([]byte{0})
	}
	return m.Sum(nil)
}

// token signs c: base64url(JSON).base64url(HMAC-SHA256).
func (l *linker) token(c linkClaims) string {
	b, _ := json.Marshal(c) // plain strings and an int: cannot fail
	body := base64.RawURLEncoding.EncodeToString(b)
	return body + "." + base64.RawURLEncoding.EncodeToString(l.mac("link", body))
}

// verify checks a token's signature (in constant time) and expiry.
func (l *linker) verify(tok string, now time.Time) (linkClaims, error) {
	body, sig, ok := strings.Cut(tok, ".")
	if !ok || len(tok) > 4096 {
		return linkClaims{}, errBadToken
	}
	got, err := base64.RawURLEncoding.DecodeString(sig)
	if err != nil || !hmac.Equal(got, l.mac("link", body)) {
		return linkClaims{}, errBadToken
	}
	raw, err := base64.RawURLEncoding.DecodeString(body)
	if err != nil {
		return linkClaims{}, errBadToken
	}
	var c linkClaims
	if err := json.Unmarshal(raw, &c); err != nil {
		return linkClaims{}, errBadToken
	}
	switch c.Action {
	case actAcknowledge, actNotRelevant, actMute:
	default:
		return linkClaims{}, errBadToken
	}
	if now.Unix() >= c.Expires {
		return linkClaims{}, errors.New("this link has expired")
	}
	return c, nil
}

// csrf is the form token bound to a link token.
func (l *linker) csrf(tok string) string {
	return base64.RawURLEncoding.EncodeToString(l.mac("csrf", tok))
}

func (l *linker) checkCSRF(tok, got string) bool {
	want := l.csrf(tok)
	return hmac.Equal([]byte(got), []byte(want))
}

// muteText is the mute link's words: "Mute this thread for 7 days" by default.
func muteText(d time.Duration) string {
	if d%(24*time.Hour) == 0 {
		n := int(d / (24 * time.Hour))
		if n == 1 {
			return "Mute this thread for 1 day"
		}
		return fmt.Sprintf("Mute this thread for %d days", n)
	}
	return "Mute this thread for " + d.String()
}

func actionLabel(action string, muteFor time.Duration) string {
	switch action {
	case actAcknowledge:
		return "Acknowledge"
	case actNotRelevant:
		return "Not relevant"
	default:
		return muteText(muteFor)
	}
}

// links are a post's action links for a recipient, for the Renderer.
func (l *linker) links(recipient, schoolID, itemKey string, now time.Time) []alerts.ActionLink {
	exp := now.Add(linkTTL).Unix()
	var out []alerts.ActionLink
	for _, a := range []string{actAcknowledge, actNotRelevant, actMute} {
		t := l.token(linkClaims{School: schoolID, Item: itemKey, Recipient: recipient, Action: a, Expires: exp})
		out = append(out, alerts.ActionLink{Text: actionLabel(a, l.muteFor), URL: l.base + "/act?t=" + url.QueryEscape(t)})
	}
	return out
}
