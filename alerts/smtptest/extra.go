package smtptest

import (
	"bytes"
	"io"
	"net"
	"testing"
	"time"

	smtp "github.com/emersion/go-smtp"
)

// Options add hooks to a server started with StartWith, for tests that need
// to see or stall a delivery while it happens (a daemon stopped mid-send,
// item-to-mail latency).
type Options struct {
	// BeforeData, if set, runs when a client has sent DATA, before the
	// message is read and accepted; blocking in it keeps the client waiting
	// mid-send.
	BeforeData func()
	// OnMessage, if set, is called with each accepted message and the time
	// it was accepted.
	OnMessage func(Message, time.Time)
}

// StartWith is Start with hooks. The hooks apply until Close; a Restart
// serves without them.
func StartWith(t testing.TB, o Options) *Server {
	t.Helper()
	s := &Server{received: make(chan struct{}, 1000)}
	srv := smtp.NewServer(&hookedBackend{s: s, o: o})
	srv.Domain = "smtptest.local"
	srv.AllowInsecureAuth = true
	srv.ReadTimeout = 10 * time.Second
	srv.WriteTimeout = 10 * time.Second
	srv.MaxMessageBytes = 10 << 20
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.mu.Lock()
	s.srv = srv
	s.Addr = ln.Addr().String()
	s.mu.Unlock()
	go srv.Serve(ln)
	t.Cleanup(s.Close)
	return s
}

// Count returns how many messages were accepted so far.
func (s *Server) Count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.msgs)
}

// Since returns the messages accepted after the first n.
func (s *Server) Since(n int) []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	if n >= len(s.msgs) {
		return nil
	}
	return append([]Message(nil), s.msgs[n:]...)
}

type hookedBackend struct {
	s *Server
	o Options
}

func (b *hookedBackend) NewSession(c *smtp.Conn) (smtp.Session, error) {
	return &hookedSession{session: &session{s: b.s}, o: b.o}, nil
}

// hookedSession is a session with the Options' hooks around Data.
type hookedSession struct {
	*session
	o Options
}

func (hs *hookedSession) Data(r io.Reader) error {
	if hs.o.BeforeData != nil {
		hs.o.BeforeData()
	}
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	if err := hs.session.Data(bytes.NewReader(b)); err != nil {
		return err
	}
	if hs.o.OnMessage != nil {
		hs.o.OnMessage(Message{From: hs.from, To: append([]string(nil), hs.to...), Data: b}, time.Now())
	}
	return nil
}
