package watchers

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"

	"github.com/schoolwatch/schoolwatch/store"
)

// A Jetstream feed (type: jetstream) is Bluesky's public firehose as
// JSON over a WebSocket: the v1 /subscribe wire, which Jetstream v2 keeps
// frozen. Every public post on the network passes through it; there is no
// server-side keyword filter, so the school matcher runs here on every post
// (Relevant) and only the posts that name a school reach the Sink.
//
// zstd compression is not asked for: Jetstream compresses with a custom
// dictionary that would have to be fetched and kept in step with the
// server; posts alone are some tens of kB/s uncompressed.

// Jetstream wire values and the stream's limits.
const (
	// PostCollection is the only collection a Jetstream feed subscribes
	// to (wantedCollections).
	PostCollection = "app.bsky.feed.post"
	// StreamRewind is how far before the last recorded event a stream
	// resumes (cursor, in Jetstream's microseconds). Delivery is at least
	// once either way; a replayed post is a duplicate the store already
	// holds under its DID and record key.
	StreamRewind = 5 * time.Second
	// MaxStreamMessage caps one event. atproto records are at most 1 MiB;
	// a post is a few KiB.
	MaxStreamMessage = 2 << 20
	// DefaultStreamBatch and DefaultStreamFlush: the posts a stream hands
	// the Sink at once, and how long a post waits for its batch.
	DefaultStreamBatch = 100
	DefaultStreamFlush = 100 * time.Millisecond
	// DefaultStreamPing is how often an open stream is pinged: a ping
	// unanswered within the feed's timeout ends the connection.
	DefaultStreamPing = 30 * time.Second
	// DefaultStreamRetry is the wait after the first failed connection; it
	// doubles with each further failure up to MaxStreamRetry (and
	// polling.max_backoff). A connection that worked and then dropped is
	// resumed after streamResume.
	DefaultStreamRetry = 10 * time.Second
	MaxStreamRetry     = 10 * time.Minute
	streamResume       = time.Second
	// maxHandles bounds the DID-to-handle map built from identity events.
	maxHandles = 50000
)

// Kinds of stream events, the values of schoolwatch_stream_events_total's
// kind label.
const (
	StreamPost    = "post"    // a post created (or edited)
	StreamOther   = "other"   // any other commit, a delete, an identity or account event
	StreamInvalid = "invalid" // not an event this stream can read
)

// Stream follows one Jetstream feed until its context ends: it connects,
// turns each created post into an Item, hands them to the Poller's Sink in
// batches, and reconnects with backoff when the connection fails, resuming
// a few seconds before the last event it recorded. The feed's state (and
// so its health) lives with the polled feeds': failures count like failed
// polls, the cursor is kept in it, and LastNewItem moves whenever posts
// arrive, so a stream that is down is "failing" and one that is silent for
// quiet_after is "quiet".
type Stream struct {
	Feed Feed
	// Poller supplies the Store, Sink, Log, Metrics, clock and MaxBackoff,
	// and keeps the feed's state with the polled feeds'.
	Poller    *Poller
	UserAgent string
	// Relevant, if set, sees every post's text and says whether it may
	// matter (names a school); only those become items for the Sink.
	Relevant func(text string) bool
	// OnBatch, if set, is called after each batch handed to the Sink.
	OnBatch func(Result)

	// Tuning; zero values take the defaults above.
	BatchSize  int
	FlushEvery time.Duration
	PingEvery  time.Duration
	RetryAfter time.Duration

	client  *http.Client
	st      store.FeedState
	handles map[string]string // reader goroutine only
	// working: this connection has delivered an event or answered a ping.
	working bool
}

// streamEvent is one decoded event as the reader hands it on.
type streamEvent struct {
	timeUS int64
	post   bool
	item   *Item // a post that may matter; nil otherwise
}

// jsEvent is the part of a Jetstream event the stream reads.
type jsEvent struct {
	DID    string `json:"did"`
	TimeUS int64  `json:"time_us"`
	Kind   string `json:"kind"`
	Commit *struct {
		Operation  string `json:"operation"`
		Collection string `json:"collection"`
		RKey       string `json:"rkey"`
		Record     *struct {
			Text      string `json:"text"`
			CreatedAt string `json:"createdAt"`
		} `json:"record"`
	} `json:"commit"`
	Identity *struct {
		DID    string `json:"did"`
		Handle string `json:"handle"`
	} `json:"identity"`
}

// Run follows the stream until ctx is done. It returns nil then; every
// failure is recorded in the feed's state and retried.
func (s *Stream) Run(ctx context.Context) error {
	p := s.Poller
	for {
		st, err := p.State(ctx, s.Feed.ID)
		if err == nil {
			s.st = st
			break
		}
		if !sleepCtx(ctx, s.backoff(1, err)) {
			return nil
		}
	}
	s.st.FeedID = s.Feed.ID
	for ctx.Err() == nil {
		good, err := s.session(ctx)
		if ctx.Err() != nil {
			return nil
		}
		wait := streamResume
		if good {
			p.log().Info("stream connection ended; resuming", "feed", s.Feed.ID, "err", RedactError(err))
		} else {
			wait = s.fail(ctx, err)
		}
		if !sleepCtx(ctx, wait) {
			return nil
		}
	}
	return nil
}

func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// SubscribeURL is the feed's URL with wantedCollections set to posts and,
// when cursor is set, a cursor StreamRewind before it.
func SubscribeURL(raw string, cursor int64) (string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", err
	}
	q := u.Query()
	q.Set("wantedCollections", PostCollection)
	q.Del("cursor")
	q.Del("compress") // zstd is not read (see the package note above)
	if c := cursor - StreamRewind.Microseconds(); cursor > 0 && c > 0 {
		q.Set("cursor", strconv.FormatInt(c, 10))
	}
	u.RawQuery = q.Encode()
	return u.String(), nil
}

func (s *Stream) httpClient() *http.Client {
	if s.client == nil {
		s.client = &http.Client{
			Transport: http.DefaultTransport.(*http.Transport).Clone(),
			// A redirect is refused: the configured URL is the endpoint.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
	}
	return s.client
}

func (s *Stream) timeout() time.Duration {
	if s.Feed.Timeout > 0 {
		return s.Feed.Timeout
	}
	return 20 * time.Second
}

// session is one connection: it returns whether it worked (delivered an
// event or answered a ping) and why it ended.
func (s *Stream) session(ctx context.Context) (good bool, err error) {
	s.working = false
	defer func() { good = s.working }()
	u, err := SubscribeURL(s.Feed.URL, s.st.Cursor)
	if err != nil {
		return false, &FetchError{Class: ClassBadRequest, Err: err}
	}
	dctx, cancel := context.WithTimeout(ctx, s.timeout())
	h := http.Header{}
	if s.UserAgent != "" {
		h.Set("User-Agent", s.UserAgent)
	}
	conn, resp, err := websocket.Dial(dctx, u, &websocket.DialOptions{HTTPClient: s.httpClient(), HTTPHeader: h})
	cancel()
	if err != nil {
		if resp != nil && resp.StatusCode != http.StatusSwitchingProtocols {
			if serr := statusError(resp, s.Poller.now()); serr != nil {
				return false, serr
			}
			return false, &FetchError{Class: ClassNotFeed, Err: fmt.Errorf("HTTP %d: not a WebSocket endpoint", resp.StatusCode)}
		}
		return false, classifyTransport(err)
	}
	conn.SetReadLimit(MaxStreamMessage)
	s.Poller.log().Info("stream connected", "feed", s.Feed.ID, "cursor", s.st.Cursor)

	sctx, stop := context.WithCancel(ctx)
	// The reader reads without a context; closing the connection ends it.
	context.AfterFunc(sctx, func() { conn.CloseNow() })
	var wg sync.WaitGroup
	defer func() {
		stop()
		wg.Wait()
	}()
	size := s.BatchSize
	if size <= 0 {
		size = DefaultStreamBatch
	}
	pend := newPending(size)
	readErr := make(chan error, 1)
	alive := make(chan struct{}, 1)
	var pingErr atomic.Pointer[error]
	counters := s.Poller.Metrics.streamCounters(s.Feed.ID)
	wg.Add(2)
	go func() {
		defer wg.Done()
		readErr <- s.read(sctx, conn, pend, counters)
	}()
	go func() {
		defer wg.Done()
		s.ping(sctx, conn, alive, &pingErr)
	}()

	every := s.FlushEvery
	if every <= 0 {
		every = DefaultStreamFlush
	}
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		force := false
		select {
		case <-pend.full:
		case <-tick.C:
		case <-alive:
			// The connection works even when nothing is posted: its
			// last success moves, its last new item does not.
			force = true
		case err := <-readErr:
			// What the reader read before it stopped is recorded first.
			if b := pend.take(); b.events > 0 {
				fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.timeout())
				ferr := s.flush(fctx, &b)
				cancel()
				if ferr != nil {
					return false, ferr
				}
			}
			if pe := pingErr.Load(); pe != nil {
				err = *pe
			} else if ctx.Err() == nil {
				err = streamReadError(err)
			}
			return false, err
		}
		b := pend.take()
		if b.events == 0 && !force {
			continue
		}
		if err := s.flush(ctx, &b); err != nil {
			return false, err
		}
	}
}

// pending is the batch the reader fills and the session takes. The reader
// hands over nothing per event (a channel send per event would wake the
// session 2,000 times a second): the session takes the batch on a tick, or
// when the reader says it holds a full batch of items. A reader with four
// batches of items waiting (the Sink is slow) waits for a take.
type pending struct {
	size    int
	mu      sync.Mutex
	b       streamBatch
	full    chan struct{} // the batch holds size items
	drained chan struct{} // the session took the batch
}

func newPending(size int) *pending {
	return &pending{size: size, full: make(chan struct{}, 1), drained: make(chan struct{}, 1)}
}

// add adds an event, waiting while the batch holds 4*size items.
func (p *pending) add(ctx context.Context, ev streamEvent) error {
	p.mu.Lock()
	for len(p.b.items) >= 4*p.size {
		p.mu.Unlock()
		select {
		case <-p.drained:
		case <-ctx.Done():
			return ctx.Err()
		}
		p.mu.Lock()
	}
	p.b.add(ev)
	n := len(p.b.items)
	p.mu.Unlock()
	if ev.item != nil && n >= p.size {
		select {
		case p.full <- struct{}{}:
		default:
		}
	}
	return nil
}

func (p *pending) take() streamBatch {
	p.mu.Lock()
	b := p.b
	p.b = streamBatch{cursor: b.cursor}
	p.mu.Unlock()
	select {
	case p.drained <- struct{}{}:
	default:
	}
	return b
}

// streamReadError classifies why a stream's connection ended.
func streamReadError(err error) error {
	var ce websocket.CloseError
	if errors.As(err, &ce) {
		if ce.Code == websocket.StatusMessageTooBig {
			return &FetchError{Class: ClassTooLarge, Err: err}
		}
		return &FetchError{Class: ClassNetwork, Err: fmt.Errorf("the server closed the stream: %w", err)}
	}
	return classifyTransport(err)
}

// ping pings the connection every PingEvery; one unanswered within the
// feed's timeout closes it (the reader then ends the session).
func (s *Stream) ping(ctx context.Context, conn *websocket.Conn, alive chan<- struct{}, failed *atomic.Pointer[error]) {
	every := s.PingEvery
	if every <= 0 {
		every = DefaultStreamPing
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		pctx, cancel := context.WithTimeout(ctx, s.timeout())
		err := conn.Ping(pctx)
		cancel()
		if err != nil {
			if ctx.Err() == nil {
				var fe error = &FetchError{Class: ClassTimeout, Err: fmt.Errorf("no answer to a ping within %v", s.timeout())}
				failed.Store(&fe)
				conn.CloseNow()
			}
			return
		}
		select {
		case alive <- struct{}{}:
		default:
		}
	}
}

// read reads and decodes events until the connection fails or ctx ends.
func (s *Stream) read(ctx context.Context, conn *websocket.Conn, out *pending, c streamCounters) error {
	var buf bytes.Buffer
	for {
		// No context per read (it costs a timer per message): the
		// connection is closed when the session ends.
		typ, r, err := conn.Reader(context.Background())
		if err != nil {
			return err
		}
		buf.Reset()
		if _, err := buf.ReadFrom(r); err != nil {
			return err
		}
		if typ != websocket.MessageText {
			c.inc(StreamInvalid) // compressed (zstd) frames: never asked for
			continue
		}
		ev, kind := s.decode(buf.Bytes(), s.Poller.now())
		c.inc(kind)
		if buf.Cap() > 256<<10 {
			buf = bytes.Buffer{} // one outsized event does not keep its buffer
		}
		if kind == StreamInvalid {
			continue
		}
		if err := out.add(ctx, ev); err != nil {
			return err
		}
	}
}

// decode reads one event. Posts created or edited become items (when
// Relevant lets them through); identity events teach the stream a DID's
// handle; everything else only moves the cursor.
func (s *Stream) decode(b []byte, now time.Time) (streamEvent, string) {
	var e jsEvent
	if err := json.Unmarshal(b, &e); err != nil || e.TimeUS <= 0 {
		return streamEvent{}, StreamInvalid
	}
	ev := streamEvent{timeUS: e.TimeUS}
	switch e.Kind {
	case "commit":
		c := e.Commit
		if c == nil || c.Collection != PostCollection || (c.Operation != "create" && c.Operation != "update") || c.Record == nil {
			return ev, StreamOther
		}
		if !validDID(e.DID) || !validRKey(c.RKey) {
			return streamEvent{}, StreamInvalid
		}
		ev.post = true
		text := truncate(tidy(clean(c.Record.Text)), MaxTextLen)
		if s.Relevant != nil && !s.Relevant(text) {
			return ev, StreamPost
		}
		author := e.DID
		if h := s.handles[e.DID]; h != "" {
			author = h
		}
		it := PostItem(s.Feed, e.DID, c.RKey, author, text, c.Record.CreatedAt, e.TimeUS, now)
		ev.item = &it
		return ev, StreamPost
	case "identity":
		if id := e.Identity; id != nil && validDID(id.DID) && validHandle(id.Handle) {
			if s.handles == nil || len(s.handles) >= maxHandles {
				s.handles = make(map[string]string)
			}
			s.handles[id.DID] = id.Handle
		}
	}
	return ev, StreamOther
}

// PostItem is the Item for a Bluesky post: its link the bsky.app page, its
// identity (GUID) the DID and record key, its author the handle when
// known, else the DID; its date the post's createdAt, else when the
// network saw it. text is the post's text, already cleaned.
func PostItem(f Feed, did, rkey, author, text, createdAt string, timeUS int64, now time.Time) Item {
	it := Item{
		FeedID: f.ID, FeedName: f.Name,
		Text:   text,
		Link:   "https://bsky.app/profile/" + did + "/post/" + rkey,
		Author: truncate(collapse(clean(author)), 200),
	}
	if t, err := time.Parse(time.RFC3339Nano, createdAt); err == nil && !t.After(now.Add(24*time.Hour)) {
		it.Published, it.Dated = t, true
	} else if seen := time.UnixMicro(timeUS); timeUS > 0 && !seen.After(now) {
		it.Published = seen
	} else {
		it.Published = now
	}
	it.TooOld = it.Dated && f.MaxItemAge > 0 && now.Sub(it.Published) > f.MaxItemAge
	it.Fingerprint = hashKey(it.Title, it.Text)
	it.Key, it.AltKeys = itemKeys(f, did+"/"+rkey, it)
	return it
}

// validDID accepts a DID's syntax (did:method:identifier), bounded.
func validDID(s string) bool {
	if len(s) < 8 || len(s) > 256 || s[:4] != "did:" {
		return false
	}
	for i := 4; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == ':' || c == '%' || c == '-') {
			return false
		}
	}
	return true
}

// validRKey accepts a record key's syntax.
func validRKey(s string) bool {
	if len(s) == 0 || len(s) > 512 || s == "." || s == ".." {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == ':' || c == '~' || c == '-') {
			return false
		}
	}
	return true
}

// validHandle accepts a handle's syntax (a domain name).
func validHandle(s string) bool {
	if len(s) < 3 || len(s) > 253 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-') {
			return false
		}
	}
	return true
}

// streamBatch is what a stream has read and not yet recorded.
type streamBatch struct {
	items  []Item
	events int
	posts  int64
	cursor int64
}

func (b *streamBatch) add(ev streamEvent) {
	b.events++
	if ev.post {
		b.posts++
	}
	if ev.item != nil {
		b.items = append(b.items, *ev.item)
	}
	b.cursor = max(b.cursor, ev.timeUS)
}

func (b *streamBatch) reset() {
	clear(b.items)
	b.items = b.items[:0]
	b.events, b.posts = 0, 0
}

// flush hands the batch's items to the Sink and records the feed's state:
// the connection works, the cursor moves to the batch's last event. If the
// Sink fails, nothing moves: the session ends and the next one resumes
// before these events.
func (s *Stream) flush(ctx context.Context, b *streamBatch) error {
	p := s.Poller
	now := p.now()
	if len(b.items) > 0 {
		counts, err := p.Sink.Items(ctx, s.Feed, b.items, now)
		res := Result{Feed: s.Feed, Items: len(b.items), New: counts.New, TooOld: counts.TooOld, Edited: counts.Edited}
		if err != nil {
			res = Result{Feed: s.Feed, Items: len(b.items), Err: &FetchError{Class: ClassStore, Err: err}}
		}
		if s.OnBatch != nil {
			s.OnBatch(res)
		}
		if err != nil {
			return res.Err
		}
		p.Metrics.streamed(res)
	}
	prev := s.st
	st := prev
	st.FeedID = s.Feed.ID
	st.LastPoll, st.LastSuccess = now, now
	st.Failures, st.FailingSince, st.NextPoll = 0, time.Time{}, time.Time{}
	st.LastError, st.ErrorClass = "", ""
	if b.posts > 0 || st.LastNewItem.IsZero() {
		st.LastNewItem = now
	}
	st.ItemsSeen += b.posts
	st.Cursor = max(st.Cursor, b.cursor)
	b.reset()
	s.st = st
	first := !s.working
	s.working = true
	if first {
		p.log().Info("stream receiving", "feed", s.Feed.ID)
	}
	routine := prev.Failures == 0 && !prev.LastSuccess.IsZero()
	if err := p.states.put(ctx, p.Store, st, routine); err != nil && ctx.Err() == nil {
		p.log().Error("save feed state", "feed", s.Feed.ID, "err", err)
	}
	p.Metrics.streamOK(s.Feed.ID, st, first)
	return nil
}

// fail records a failed connection and returns how long to wait before
// the next one.
func (s *Stream) fail(ctx context.Context, err error) time.Duration {
	p := s.Poller
	now := p.now()
	err = RedactError(err)
	if err == nil {
		err = &FetchError{Class: ClassNetwork, Err: errors.New("the connection ended before any event")}
	}
	st := s.st
	st.FeedID = s.Feed.ID
	if st.Failures == 0 {
		st.FailingSince = now
	}
	st.Failures++
	st.LastPoll = now
	st.LastError = truncate(err.Error(), 500)
	st.ErrorClass = ErrorClass(err)
	wait := s.backoff(st.Failures, err)
	st.NextPoll = now.Add(wait)
	s.st = st
	p.log().Warn("stream failed", "feed", s.Feed.ID, "class", st.ErrorClass, "failures", st.Failures, "retry_in", wait, "err", err)
	if perr := p.states.put(context.WithoutCancel(ctx), p.Store, st, false); perr != nil {
		p.log().Error("save feed state", "feed", s.Feed.ID, "err", perr)
	}
	p.Metrics.observe(Result{Feed: s.Feed, Err: err}, st)
	if s.OnBatch != nil {
		s.OnBatch(Result{Feed: s.Feed, Err: err})
	}
	return wait
}

// backoff is the wait after the n-th consecutive failed connection: what
// the server asked for, else DefaultStreamRetry doubling, capped.
func (s *Stream) backoff(n int, err error) time.Duration {
	limit := min(MaxStreamRetry, s.Poller.maxBackoff())
	if fe := (*FetchError)(nil); errors.As(err, &fe) && fe.RetryAfter > 0 {
		return min(fe.RetryAfter, s.Poller.maxBackoff())
	}
	d := s.RetryAfter
	if d <= 0 {
		d = DefaultStreamRetry
	}
	for i := 1; i < n && d < limit; i++ {
		d *= 2
	}
	return min(d, limit)
}
