package alerts

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	htmltemplate "html/template"
	"sort"
	"strings"
	texttemplate "text/template"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/schoolwatch/schoolwatch/store"
	"github.com/schoolwatch/schoolwatch/watchers"
)

// Notice kinds, also the values of the kind label of
// schoolwatch_notices_total.
const (
	NoticeFailing   = "failing"
	NoticeQuiet     = "quiet"
	NoticeReminder  = "reminder"
	NoticeRecovered = "recovered"
)

// reminderEvery is the least time between two notices about one lasting
// condition.
const reminderEvery = 24 * time.Hour

var (
	noticeText = texttemplate.Must(texttemplate.ParseFS(templateFS, "templates/notice.txt.tmpl"))
	noticeHTML = htmltemplate.Must(htmltemplate.ParseFS(templateFS, "templates/notice.html.tmpl"))
)

// FeedHealth is one feed's evaluated condition, the evaluator's input.
type FeedHealth struct {
	Feed   watchers.Feed
	State  store.FeedState
	Health watchers.Health
}

// NoticeEntry is one feed's line in an operator notice.
type NoticeEntry struct {
	FeedID, Name string
	Kind         string // failing | quiet | reminder | recovered
	Condition    string // failing | quiet: what the entry is about
	ErrorClass   string
	LastError    string
	Failures     int // consecutive failed polls, for failing entries
	Since        time.Time
	SinceText    string
	Check        string
	Headline     string
}

// checkAdvice says what an operator should look at for each error class.
var checkAdvice = map[string]string{
	"http_4xx":    "the URL may have moved, need a new search or require access; open it in a browser.",
	"gone":        "the feed has moved or been removed (404/410); find its new address or remove it from the config.",
	"throttled":   "the site is rate-limiting schoolwatch; lower the feed's schedule.",
	"http_5xx":    "the site is having server trouble; if it lasts days, check the site is still running.",
	"parse":       "the site no longer serves a valid feed at this address; check the URL still returns RSS or Atom.",
	"not_feed":    "the address returns a web page, not a feed; find the site's RSS or Atom link.",
	"too_large":   "the feed is larger than schoolwatch accepts; use a narrower feed or search.",
	"timeout":     "connectivity: the site did not answer in time; check network access from this host and the feed's timeout.",
	"network":     "connectivity: DNS, firewall or proxy from this host to the site.",
	"tls":         "the site's certificate failed verification; check the host's clock and CA certificates, or the site's certificate.",
	"redirect":    "the site redirects in a loop or without a location; check the URL in a browser.",
	"file":        "the local file cannot be read; check the path and permissions.",
	"store":       "schoolwatch could not write its database; check disk space and permissions of store.path.",
	"bad_request": "the feed URL is malformed; check it in the config.",
	NoticeQuiet:   "the search may be too narrow, or the source may have stopped publishing; open the feed and check it still carries recent posts.",
}

// PlanNotices decides, from each feed's health and the notice log, which
// feeds belong in the next operator notice and how the log changes. It is a
// pure function: a condition that starts (or changes) is notified at once,
// one that lasts is reminded at most once per reminderEvery, and a feed
// that was notified and is healthy again gets a recovery entry. Feeds in
// state unknown, and log entries for feeds no longer configured, are left
// alone.
func PlanNotices(feeds []FeedHealth, log map[string]store.FeedNotice, now time.Time) (entries []NoticeEntry, put []store.FeedNotice, cleared []string) {
	for _, fh := range feeds {
		id := fh.Feed.ID
		prev, had := log[id]
		var cond string
		switch fh.Health {
		case watchers.HealthFailing:
			cond = NoticeFailing
		case watchers.HealthQuiet:
			cond = NoticeQuiet
		case watchers.HealthOK:
		default:
			continue
		}
		e := NoticeEntry{FeedID: id, Name: fh.Feed.Name, Condition: cond}
		if e.Name == "" {
			e.Name = id
		}
		switch {
		case cond == "" && had:
			e.Kind, e.Condition, e.Since = NoticeRecovered, prev.Condition, prev.Since
			cleared = append(cleared, id)
		case cond == "":
			continue
		case !had || prev.Condition != cond:
			e.Kind = cond
			e.Since = conditionSince(fh, cond)
			put = append(put, store.FeedNotice{FeedID: id, Condition: cond, Since: e.Since, LastSent: now})
		case now.Sub(prev.LastSent) >= reminderEvery:
			e.Kind, e.Since = NoticeReminder, prev.Since
			put = append(put, store.FeedNotice{FeedID: id, Condition: cond, Since: prev.Since, LastSent: now})
		default:
			continue
		}
		if e.Condition == NoticeFailing && e.Kind != NoticeRecovered {
			// A fetch error's text starts with its class; say it once.
			e.ErrorClass = fh.State.ErrorClass
			e.LastError = SanitizeHeader(strings.TrimPrefix(fh.State.LastError, e.ErrorClass+": "), 300)
			e.Failures = fh.State.Failures
		}
		entries = append(entries, e)
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].FeedID < entries[j].FeedID })
	return entries, put, cleared
}

func conditionSince(fh FeedHealth, cond string) time.Time {
	if cond == NoticeQuiet {
		return fh.State.LastNewItem
	}
	return fh.State.FailingSince
}

// NoticeMetrics counts feeds by health and notices sent.
type NoticeMetrics struct {
	feeds   *prometheus.GaugeVec
	notices *prometheus.CounterVec
}

// NewNoticeMetrics registers the feed-health metrics on reg.
func NewNoticeMetrics(reg prometheus.Registerer) *NoticeMetrics {
	m := &NoticeMetrics{
		feeds: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "schoolwatch_feeds", Help: "Configured feeds by health state (ok, failing, quiet, unknown = never polled).",
		}, []string{"state"}),
		notices: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "schoolwatch_notices_total", Help: "Feed-health notice entries and heartbeats enqueued, by kind.",
		}, []string{"kind"}),
	}
	for _, s := range []string{"ok", "failing", "quiet", "unknown"} {
		m.feeds.WithLabelValues(s)
	}
	for _, k := range []string{NoticeFailing, NoticeQuiet, NoticeReminder, NoticeRecovered, "heartbeat"} {
		m.notices.WithLabelValues(k)
	}
	if reg != nil {
		reg.MustRegister(m.feeds, m.notices)
	}
	return m
}

func (m *NoticeMetrics) observe(feeds []FeedHealth) {
	if m == nil {
		return
	}
	counts := map[string]float64{"ok": 0, "failing": 0, "quiet": 0, "unknown": 0}
	for _, f := range feeds {
		counts[f.Health.String()]++
	}
	for s, n := range counts {
		m.feeds.WithLabelValues(s).Set(n)
	}
}

func (m *NoticeMetrics) count(kind string) {
	if m != nil {
		m.notices.WithLabelValues(kind).Inc()
	}
}

// Notifier turns feed health into grouped operator notices in the outbox.
type Notifier struct {
	Store         *store.Store
	From, To      string // To: mail.operator
	SubjectPrefix string
	Host          string         // for Message-IDs; "" means schoolwatch.invalid
	Location      *time.Location // days for the content key and dates
	Now           func() time.Time
	Wake          func() // nudges the sender; may be nil
	Metrics       *NoticeMetrics
}

// Notify evaluates feeds against the notice log and enqueues at most one
// mail covering every feed whose condition started, needs a reminder or
// recovered. The mail is enqueued and the log updated in one transaction,
// so a crash leaves both or neither; the mail's content key, derived from
// the set of (feed, kind, day), also keeps two evaluations on the same day
// from queueing the same notice twice. It reports whether a mail was
// enqueued.
func (n *Notifier) Notify(ctx context.Context, feeds []FeedHealth) (bool, error) {
	n.Metrics.observe(feeds)
	if n.To == "" {
		return false, nil // nobody to tell; the status command still shows it
	}
	now := n.now()
	log, err := n.Store.FeedNoticesAt(ctx, now)
	if err != nil {
		return false, err
	}
	entries, put, cleared := PlanNotices(feeds, log, now)
	if len(entries) == 0 {
		return false, nil
	}
	loc := n.Location
	if loc == nil {
		loc = time.UTC
	}
	day := now.In(loc).Format("2006-01-02")
	h := sha256.New()
	var problems, recovered []NoticeEntry
	for _, e := range entries {
		fmt.Fprintf(h, "%s\x00%s\x00%s\n", e.FeedID, e.Kind, day)
		if !e.Since.IsZero() {
			e.SinceText = e.Since.In(loc).Format("Mon 2 Jan 2006 15:04")
		}
		advice := e.ErrorClass
		if e.Condition == NoticeQuiet {
			advice = NoticeQuiet
		}
		switch e.Kind {
		case NoticeRecovered:
			e.Headline = "working again after being " + e.Condition
			recovered = append(recovered, e)
			continue
		case NoticeReminder:
			e.Headline = "still " + e.Condition + " (daily reminder)"
		case NoticeFailing:
			e.Headline = fmt.Sprintf("failing: the last %d polls failed", e.Failures)
		case NoticeQuiet:
			e.Headline = "quiet: nothing new for longer than expected"
		}
		e.Check = checkAdvice[advice]
		if e.Check == "" {
			e.Check = "open the feed URL in a browser and check the log for this feed."
		}
		problems = append(problems, e)
	}
	key := "notice-" + hex.EncodeToString(h.Sum(nil))[:32]
	data := map[string]any{"Day": day, "Problems": problems, "Recovered": recovered}
	var text, html bytes.Buffer
	if err := noticeText.Execute(&text, data); err != nil {
		return false, fmt.Errorf("render notice: %w", err)
	}
	if err := noticeHTML.Execute(&html, data); err != nil {
		return false, fmt.Errorf("render notice: %w", err)
	}
	subject := noticeSubject(n.SubjectPrefix, problems, recovered)
	raw, err := BuildMessage(Envelope{From: n.From, To: n.To, Subject: subject, MessageID: MessageID(key, n.Host), Date: now}, text.String(), html.String())
	if err != nil {
		return false, fmt.Errorf("build notice: %w", err)
	}
	added, err := n.Store.EnqueueNotice(ctx, now, store.Message{Key: key, Kind: "notice", Recipient: n.To, Subject: subject, Raw: raw}, put, cleared)
	if err != nil {
		return false, err
	}
	if added {
		for _, e := range entries {
			n.Metrics.count(e.Kind)
		}
		if n.Wake != nil {
			n.Wake()
		}
	}
	return added, nil
}

func noticeSubject(prefix string, problems, recovered []NoticeEntry) string {
	var parts []string
	if len(problems) == 1 {
		parts = append(parts, fmt.Sprintf("feed %s is %s", problems[0].FeedID, problems[0].Condition))
	} else if len(problems) > 1 {
		parts = append(parts, fmt.Sprintf("%d feeds need attention", len(problems)))
	}
	if len(recovered) == 1 {
		parts = append(parts, fmt.Sprintf("feed %s is working again", recovered[0].FeedID))
	} else if len(recovered) > 1 {
		parts = append(parts, fmt.Sprintf("%d feeds working again", len(recovered)))
	}
	s := strings.Join(parts, "; ")
	if prefix != "" {
		s = prefix + " " + s
	}
	return s
}

func (n *Notifier) now() time.Time {
	if n.Now != nil {
		return n.Now()
	}
	return time.Now()
}
