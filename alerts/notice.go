package alerts

import (
	"context"
	"crypto/sha256"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/schoolwatch/schoolwatch/mail"
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
	watchers.ClassHTTP4xx:         "the URL may have moved, need a new search or require access; open it in a browser.",
	watchers.ClassGone:            "the feed has moved or been removed (404/410); find its new address or remove it from the config.",
	watchers.ClassThrottled:       "the site is rate-limiting schoolwatch; lower the feed's schedule.",
	watchers.ClassHTTP5xx:         "the site is having server trouble; if it lasts days, check the site is still running.",
	watchers.ClassParse:           "the site no longer serves a valid feed at this address; check the URL still returns RSS or Atom.",
	watchers.ClassNotFeed:         "the address returns a web page, not a feed; find the site's RSS or Atom link.",
	watchers.ClassTooLarge:        "the feed is larger than schoolwatch accepts; use a narrower feed or search.",
	watchers.ClassTimeout:         "connectivity: the site did not answer in time; check network access from this host and the feed's timeout.",
	watchers.ClassNetwork:         "connectivity: DNS, firewall or proxy from this host to the site.",
	watchers.ClassTLS:             "the site's certificate failed verification; check the host's clock and CA certificates, or the site's certificate.",
	watchers.ClassRedirect:        "the site redirects in a loop or without a location; check the URL in a browser.",
	watchers.ClassFile:            "the local file cannot be read; check the path and permissions.",
	watchers.ClassStore:           "schoolwatch could not write its database; check disk space and permissions of store.path.",
	watchers.ClassBadRequest:      "the feed URL is malformed; check it in the config.",
	watchers.ClassRedirectBlocked: "the feed redirected into this host's own network (loopback or private addresses), which schoolwatch refuses; check where the URL now points.",
	NoticeQuiet:                   "the search may be too narrow, or the source may have stopped publishing; open the feed and check it still carries recent posts.",
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
			e.LastError = SanitizeText(strings.TrimPrefix(fh.State.LastError, e.ErrorClass+": "), 300)
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

// NoticeLog is the feed-notice log, what the operator was last told about
// each feed; *store.Store implements it. FeedNoticesAt reads it as of now;
// EnqueueNotice queues a notice and updates the log in one transaction.
type NoticeLog interface {
	FeedNoticesAt(ctx context.Context, now time.Time) (map[string]store.FeedNotice, error)
	EnqueueNotice(ctx context.Context, now time.Time, m store.Message, put []store.FeedNotice, cleared []string) (bool, error)
}

// Notifier turns feed health into grouped operator notices in the outbox.
type Notifier struct {
	Letterhead // Location: the day of the content key, and dates
	Store      NoticeLog
	To         string // mail.operator; "" queues nothing
	Wake       func() // nudges the sender; may be nil
	Metrics    *Metrics
}

// Queue evaluates feeds against the notice log and queues at most one
// mail covering every feed whose condition started, needs a reminder or
// recovered. The mail is queued and the log updated in one transaction,
// so a crash leaves both or neither; the mail's content key, derived from
// the set of (feed, kind, day), also keeps two evaluations on the same day
// from queueing the same notice twice. It reports whether a mail was
// queued.
func (n *Notifier) Queue(ctx context.Context, feeds []FeedHealth) (bool, error) {
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
	loc := n.location()
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
	d := draft{
		key: contentKey(mail.KindNotice, h.Sum(nil), 32), kind: mail.KindNotice, to: n.To, recipient: n.To,
		subject: n.subjectLine(noticeSubject(problems, recovered)), body: noticeMail,
		data: map[string]any{"Day": day, "Problems": problems, "Recovered": recovered},
	}
	added, err := n.queue(ctx, now, d, func(ctx context.Context, now time.Time, m store.Message) (bool, error) {
		return n.Store.EnqueueNotice(ctx, now, m, put, cleared)
	}, n.Wake)
	if added {
		for _, e := range entries {
			n.Metrics.notice(e.Kind)
		}
	}
	return added, err
}

// noticeSubject says what a notice is about, after the prefix.
func noticeSubject(problems, recovered []NoticeEntry) string {
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
	return " " + strings.Join(parts, "; ")
}
