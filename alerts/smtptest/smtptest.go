// Package smtptest runs a real SMTP server on 127.0.0.1 for tests
// (github.com/emersion/go-smtp), recording what it receives and able to
// refuse mail on demand: the server schoolwatch's delivery tests talk to.
package smtptest

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"math/big"
	"net"
	"net/mail"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	smtp "github.com/emersion/go-smtp"
)

// Message is one accepted mail.
type Message struct {
	From string
	To   []string
	Data []byte
}

// Parse parses the message's headers and body.
func (m Message) Parse() (*mail.Message, error) { return mail.ReadMessage(bytes.NewReader(m.Data)) }

// Server is a running test SMTP server.
type Server struct {
	Addr string // host:port

	mu       sync.Mutex
	msgs     []Message
	replies  []int // codes to answer DATA with, one per message, before accepting
	srv      *smtp.Server
	ln       net.Listener
	received chan struct{}
	username string
	password string
	tls      *tls.Config // nil: plain SMTP only
	implicit bool        // TLS from the first byte (port 465 style)
}

// Start starts a server on a free port on 127.0.0.1; it is closed when the test ends.
func Start(t testing.TB) *Server {
	t.Helper()
	s := &Server{received: make(chan struct{}, 1000)}
	if err := s.listen("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

// StartTLS starts a server with a fresh self-signed certificate for
// 127.0.0.1 and localhost. With implicit false it offers STARTTLS; with
// implicit true it speaks TLS from the first byte. Clients must skip
// verification (config mail.smtp.insecure_skip_verify).
func StartTLS(t testing.TB, implicit bool) *Server {
	t.Helper()
	cert, err := selfSigned()
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{received: make(chan struct{}, 1000), implicit: implicit,
		tls: &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}}
	if err := s.listen("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

func selfSigned() (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "smtptest"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		DNSNames:     []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, err
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, nil
}

// RequireAuth makes the server demand AUTH PLAIN with these credentials.
func (s *Server) RequireAuth(username, password string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.username, s.password = username, password
}

func (s *Server) listen(addr string) error {
	srv := smtp.NewServer(&backend{s: s})
	srv.Domain = "smtptest.local"
	srv.AllowInsecureAuth = true
	srv.ReadTimeout = 10 * time.Second
	srv.WriteTimeout = 10 * time.Second
	srv.MaxMessageBytes = 10 << 20
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	addrStr := ln.Addr().String()
	if s.tls != nil {
		if s.implicit {
			ln = tls.NewListener(ln, s.tls)
		} else {
			srv.TLSConfig = s.tls
		}
	}
	s.mu.Lock()
	s.srv = srv
	s.ln = ln
	s.Addr = addrStr
	s.mu.Unlock()
	go srv.Serve(ln)
	return nil
}

// Host and Port split Addr.
func (s *Server) Host() string { h, _, _ := net.SplitHostPort(s.Addr); return h }

// Port is the server's port.
func (s *Server) Port() int {
	_, p, _ := net.SplitHostPort(s.Addr)
	n := 0
	for _, c := range p {
		n = n*10 + int(c-'0')
	}
	return n
}

// Close stops the server (an outage); Restart brings it back on the same port.
func (s *Server) Close() {
	s.mu.Lock()
	srv, ln := s.srv, s.ln
	s.srv, s.ln = nil, nil
	s.mu.Unlock()
	if srv != nil {
		// Close the listener ourselves too: Serve may not have registered
		// it with srv yet, and then srv.Close alone would leave it open.
		// (ln is nil for a server started elsewhere without recording it.)
		if ln != nil {
			ln.Close()
		}
		srv.Close()
	}
}

// Restart listens again on the same address after Close.
func (s *Server) Restart() error {
	var err error
	for i := 0; i < 50; i++ { // the port may linger briefly
		if err = s.listen(s.Addr); err == nil {
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return err
}

// Reply makes the server answer the next messages' DATA with these codes
// (e.g. 451, then 550) before it goes back to accepting.
func (s *Server) Reply(codes ...int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.replies = append(s.replies, codes...)
}

// Messages returns what was accepted so far.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.msgs...)
}

// WaitFor waits until at least n messages were accepted or timeout passes,
// and returns what was accepted.
func (s *Server) WaitFor(n int, timeout time.Duration) []Message {
	deadline := time.After(timeout)
	for {
		if m := s.Messages(); len(m) >= n {
			return m
		}
		select {
		case <-s.received:
		case <-deadline:
			return s.Messages()
		}
	}
}

type backend struct{ s *Server }

func (b *backend) NewSession(c *smtp.Conn) (smtp.Session, error) {
	return &session{s: b.s}, nil
}

type session struct {
	s      *Server
	from   string
	to     []string
	authed bool
}

func (ss *session) AuthMechanisms() []string {
	ss.s.mu.Lock()
	defer ss.s.mu.Unlock()
	if ss.s.username == "" {
		return nil
	}
	return []string{"PLAIN"}
}

func (ss *session) Auth(mech string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(identity, username, password string) error {
		ss.s.mu.Lock()
		defer ss.s.mu.Unlock()
		if username != ss.s.username || password != ss.s.password {
			return errors.New("invalid credentials")
		}
		ss.authed = true
		return nil
	}), nil
}

func (ss *session) Mail(from string, _ *smtp.MailOptions) error {
	ss.s.mu.Lock()
	need := ss.s.username != ""
	ss.s.mu.Unlock()
	if need && !ss.authed {
		return &smtp.SMTPError{Code: 530, EnhancedCode: smtp.EnhancedCode{5, 7, 0}, Message: "authentication required"}
	}
	ss.from = from
	return nil
}

func (ss *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	ss.to = append(ss.to, to)
	return nil
}

func (ss *session) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	ss.s.mu.Lock()
	defer ss.s.mu.Unlock()
	if len(ss.s.replies) > 0 {
		code := ss.s.replies[0]
		ss.s.replies = ss.s.replies[1:]
		if code != 250 {
			return &smtp.SMTPError{Code: code, EnhancedCode: smtp.EnhancedCodeNotSet, Message: "refused by smtptest"}
		}
	}
	ss.s.msgs = append(ss.s.msgs, Message{From: ss.from, To: append([]string(nil), ss.to...), Data: b})
	select {
	case ss.s.received <- struct{}{}:
	default:
	}
	return nil
}

func (ss *session) Reset()        { ss.from, ss.to = "", nil }
func (ss *session) Logout() error { return nil }
