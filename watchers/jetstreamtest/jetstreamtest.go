// Package jetstreamtest is a fake Bluesky Jetstream for tests: a WebSocket
// server on 127.0.0.1 speaking the v1 /subscribe JSON wire, sending each
// connection the events a test scripts for it.
package jetstreamtest

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"
)

// Event is one Jetstream event, encoded as the wire carries it.
type Event struct {
	TimeUS int64
	JSON   []byte
}

func event(did, kind string, at time.Time, body map[string]any) Event {
	us := at.UnixMicro()
	m := map[string]any{"did": did, "time_us": us, "kind": kind}
	for k, v := range body {
		m[k] = v
	}
	b, _ := json.Marshal(m) // plain data: cannot fail
	return Event{TimeUS: us, JSON: b}
}

// Post is the creation of a post by did with record key rkey.
func Post(did, rkey, text string, at time.Time) Event {
	return commit(did, "create", "app.bsky.feed.post", rkey, map[string]any{
		"$type": "app.bsky.feed.post", "text": text, "langs": []string{"en"},
		"createdAt": at.UTC().Format("2006-01-02T15:04:05.000Z"),
	}, at)
}

// Like is a like; text is put in its record too, so a test can show that
// a like is never read as a post whatever it carries.
func Like(did, rkey, text string, at time.Time) Event {
	return commit(did, "create", "app.bsky.feed.like", rkey, map[string]any{
		"$type": "app.bsky.feed.like", "text": text,
		"subject":   map[string]string{"cid": "bafyreib", "uri": "at://" + did + "/app.bsky.feed.post/3l3qo2vuowo2b"},
		"createdAt": at.UTC().Format(time.RFC3339Nano),
	}, at)
}

// Delete is the deletion of a post.
func Delete(did, rkey string, at time.Time) Event {
	return commit(did, "delete", "app.bsky.feed.post", rkey, nil, at)
}

func commit(did, op, collection, rkey string, record map[string]any, at time.Time) Event {
	c := map[string]any{"rev": "3l3qo2vutsw2b", "operation": op, "collection": collection, "rkey": rkey}
	if record != nil {
		c["record"] = record
		c["cid"] = "bafyreidc6sydkkbchcyg62v77wbhzvb2mvytlmsychqgwf2xojjtirmzj4"
	}
	return event(did, "commit", at, map[string]any{"commit": c})
}

// Identity is an identity event: did's handle is now handle.
func Identity(did, handle string, at time.Time) Event {
	return event(did, "identity", at, map[string]any{"identity": map[string]any{
		"did": did, "handle": handle, "seq": 1409752997, "time": at.UTC().Format(time.RFC3339Nano),
	}})
}

// Account is an account event (an account activated).
func Account(did string, at time.Time) Event {
	return event(did, "account", at, map[string]any{"account": map[string]any{
		"active": true, "did": did, "seq": 1409753013, "time": at.UTC().Format(time.RFC3339Nano),
	}})
}

// From returns the events at or after cursor, as Jetstream replays them
// (all of them for cursor 0).
func From(events []Event, cursor int64) []Event {
	var out []Event
	for _, e := range events {
		if e.TimeUS >= cursor {
			out = append(out, e)
		}
	}
	return out
}

// Conn is one connection as the server saw it.
type Conn struct {
	Query  url.Values
	Cursor int64 // the cursor parameter, 0 when absent
}

// Script says what one connection gets.
type Script struct {
	// Status, if set, refuses the connection with this HTTP status.
	Status int
	// Events are sent in order.
	Events []Event
	// Hold keeps the connection open after the events, until the client
	// or the server closes it; otherwise the server closes it.
	Hold bool
	// Rate paces the events per second (0: as fast as they go).
	Rate int
}

// Server is a fake Jetstream. Its URL is ws://127.0.0.1:port/subscribe.
type Server struct {
	URL string
	// Serve is called for each connection, n counting from 0.
	Serve func(n int, c Conn) Script

	srv    *httptest.Server
	mu     sync.Mutex
	conns  []Conn
	served []chan struct{}
	ctx    context.Context
	cancel context.CancelFunc
}

// NewServer starts a fake Jetstream; Close stops it.
func NewServer(serve func(n int, c Conn) Script) *Server {
	s := &Server{Serve: serve}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.srv = httptest.NewServer(http.HandlerFunc(s.handle))
	s.URL = "ws" + strings.TrimPrefix(s.srv.URL, "http") + "/subscribe"
	return s
}

// Close closes every connection and stops the server.
func (s *Server) Close() {
	s.cancel()
	s.srv.CloseClientConnections()
	s.srv.Close()
}

// Conns returns the connections made so far.
func (s *Server) Conns() []Conn {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Conn(nil), s.conns...)
}

// Sent returns a channel closed once connection n has been sent all its
// events.
func (s *Server) Sent(n int) <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sentLocked(n)
}

func (s *Server) sentLocked(n int) chan struct{} {
	for len(s.served) <= n {
		s.served = append(s.served, make(chan struct{}))
	}
	return s.served[n]
}

func (s *Server) handle(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/subscribe" {
		http.NotFound(w, r)
		return
	}
	c := Conn{Query: r.URL.Query()}
	c.Cursor, _ = strconv.ParseInt(c.Query.Get("cursor"), 10, 64)
	s.mu.Lock()
	n := len(s.conns)
	s.conns = append(s.conns, c)
	sent := s.sentLocked(n)
	s.mu.Unlock()
	script := s.Serve(n, c)
	if script.Status != 0 {
		w.Header().Set("Retry-After", "0")
		http.Error(w, http.StatusText(script.Status), script.Status)
		close(sent)
		return
	}
	conn, err := websocket.Accept(w, r, nil)
	if err != nil {
		close(sent)
		return
	}
	defer conn.CloseNow()
	ctx := conn.CloseRead(s.ctx) // answers pings; done when the client goes
	var tick *time.Ticker
	perTick := 0
	if script.Rate > 0 {
		tick = time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		perTick = max(1, script.Rate/100)
	}
	for i, e := range script.Events {
		if tick != nil && i > 0 && i%perTick == 0 {
			select {
			case <-tick.C:
			case <-ctx.Done():
				close(sent)
				return
			}
		}
		if err := conn.Write(ctx, websocket.MessageText, e.JSON); err != nil {
			close(sent)
			return
		}
	}
	close(sent)
	if script.Hold {
		<-ctx.Done()
		return
	}
	conn.Close(websocket.StatusNormalClosure, "")
}
