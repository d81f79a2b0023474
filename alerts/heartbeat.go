package alerts

import (
	"context"
	"crypto/sha256"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/schoolwatch/schoolwatch/mail"
	"github.com/schoolwatch/schoolwatch/store"
	"github.com/schoolwatch/schoolwatch/watchers"
)

// ActivityLog is what a heartbeat reports from, and where it queues;
// *store.Store implements it. NewItemsByFeed counts the items first seen
// in [from, to) per feed, AlertedItems those alerted to a recipient, and
// SeenBefore reports whether any item was seen before t.
type ActivityLog interface {
	Outbox
	NewItemsByFeed(ctx context.Context, from, to time.Time) (map[string]int64, error)
	AlertedItems(ctx context.Context, recipient string, from, to time.Time) (int, error)
	SeenBefore(ctx context.Context, t time.Time) (bool, error)
}

// Heartbeat queues the periodic "all quiet" mail to school leaders, so
// that silence in their inbox means nothing was found rather than that
// schoolwatch broke.
type Heartbeat struct {
	Letterhead
	Store ActivityLog
	// Schools are the schools and their leaders; a leader without
	// Heartbeat gets none.
	Schools []School
	// Feeds evaluates every configured feed's health at a time: the
	// daemon's one evaluation, which the notices and status use too.
	Feeds   func(ctx context.Context, at time.Time) ([]FeedHealth, error)
	Wake    func()
	Metrics *Metrics
}

// HeartbeatSchool is one school's lines in a heartbeat.
type HeartbeatSchool struct {
	Name    string
	Feeds   int      // feeds watched for the school
	Items   int64    // items first seen in the period on those feeds
	Alerted int      // items alerted to this leader in the period
	Failing []string // ids of the school's feeds now failing
}

// heartbeatLeader is one address a heartbeat goes to, with every school
// the person leads.
type heartbeatLeader struct {
	name, email string
	schools     []*School
}

// Queue queues one heartbeat per leader (heartbeat not turned off)
// covering the period [from, to), where to is the scheduled time. The
// content key is derived from the leader and to, so a schedule queues at
// most one mail per leader however often Queue is retried. Items checked
// are counted from the store's seen items by first-seen time, so the
// figure covers every configured feed the school depends on: its
// per_school expansions and every shared feed. It returns how many mails
// were newly queued.
func (h *Heartbeat) Queue(ctx context.Context, from, to time.Time) (int, error) {
	items, err := h.Store.NewItemsByFeed(ctx, from, to)
	if err != nil {
		return 0, err
	}
	feeds, err := h.Feeds(ctx, to)
	if err != nil {
		return 0, err
	}
	sent := 0
	for _, ld := range h.leaders() {
		alerted, err := h.Store.AlertedItems(ctx, ld.email, from, to)
		if err != nil {
			return sent, err
		}
		d := h.draft(ld, from, to, report(ld, items, feeds, alerted), alerted)
		added, err := h.queue(ctx, h.now(), d, func(ctx context.Context, now time.Time, m store.Message) (bool, error) {
			return h.Store.Enqueue(ctx, now, m, nil, nil)
		}, h.Wake)
		if err != nil {
			return sent, err
		}
		if added {
			sent++
			h.Metrics.notice(string(mail.KindHeartbeat))
		}
	}
	return sent, nil
}

// leaders are the addresses a heartbeat goes to, in config order: one
// mail per address, covering every school the person leads.
func (h *Heartbeat) leaders() []*heartbeatLeader {
	var out []*heartbeatLeader
	byEmail := map[string]*heartbeatLeader{}
	for i := range h.Schools {
		s := &h.Schools[i]
		for _, l := range s.Leaders {
			if !l.Heartbeat {
				continue
			}
			addr := strings.ToLower(strings.TrimSpace(l.Email))
			ld, ok := byEmail[addr]
			if !ok {
				ld = &heartbeatLeader{name: l.Name, email: addr}
				byEmail[addr] = ld
				out = append(out, ld)
			}
			if len(ld.schools) == 0 || ld.schools[len(ld.schools)-1] != s {
				ld.schools = append(ld.schools, s)
			}
		}
	}
	return out
}

// report is the lines of ld's heartbeat, one per school: its feeds, the
// items they brought in the period, and which are failing now. The alert
// log is per person, not per school, so alerted is shown once.
func report(ld *heartbeatLeader, items map[string]int64, feeds []FeedHealth, alerted int) []HeartbeatSchool {
	var out []HeartbeatSchool
	for _, s := range ld.schools {
		hs := HeartbeatSchool{Name: s.Name}
		for _, fh := range feeds {
			if fh.Feed.SchoolID != "" && fh.Feed.SchoolID != s.ID {
				continue
			}
			hs.Feeds++
			hs.Items += items[fh.Feed.ID]
			if fh.Health == watchers.HealthFailing {
				hs.Failing = append(hs.Failing, fh.Feed.ID)
			}
		}
		out = append(out, hs)
	}
	if len(out) > 0 {
		out[0].Alerted = alerted
	}
	return out
}

// draft is ld's heartbeat for [from, to).
func (h *Heartbeat) draft(ld *heartbeatLeader, from, to time.Time, schools []HeartbeatSchool, alerted int) draft {
	loc := h.location()
	sum := sha256.Sum256([]byte(fmt.Sprintf("%s\x00%d", ld.email, to.Unix())))
	subject := " weekly check-in: all quiet"
	if alerted > 0 {
		subject = fmt.Sprintf(" weekly check-in: %d alert(s) this week", alerted)
	}
	if slices.ContainsFunc(schools, func(s HeartbeatSchool) bool { return len(s.Failing) > 0 }) {
		subject += "; some sources not working"
	}
	addr := ld.email
	if ld.name != "" {
		addr = fmt.Sprintf("%q <%s>", ld.name, ld.email)
	}
	return draft{
		key: contentKey(mail.KindHeartbeat, sum[:], 32), kind: mail.KindHeartbeat, to: addr, recipient: ld.email,
		subject: h.subjectLine(subject), body: heartbeatMail,
		data: struct {
			Name, From, To string
			Schools        []HeartbeatSchool
		}{Name: ld.name, From: from.In(loc).Format("Mon 2 Jan"), To: to.In(loc).Format("Mon 2 Jan 2006 15:04"), Schools: schools},
	}
}

// Period is the heartbeat period that a run of sched at `to` closes: one
// interval of the schedule, ending at `to`.
func Period(sched cron.Schedule, to time.Time) (from time.Time) {
	return to.Add(-sched.Next(to).Sub(to))
}

// CatchUp queues the heartbeat of sched's latest run at or before now, as
// anacron does for a job whose time passed while the machine was off: a
// daemon that was down on Monday morning still reports on the week when it
// comes back. It does nothing when schoolwatch had seen no item before that
// run (a fresh install has no week to report on), and Queue's content key
// makes it a no-op when that run's heartbeat was already queued. It returns
// how many mails were newly queued.
func (h *Heartbeat) CatchUp(ctx context.Context, sched cron.Schedule, now time.Time) (int, error) {
	to, ok := lastRun(sched, now)
	if !ok {
		return 0, nil
	}
	if before, err := h.Store.SeenBefore(ctx, to); err != nil || !before {
		return 0, err
	}
	return h.Queue(ctx, Period(sched, to), to)
}

// lastRun is sched's latest run at or before now (cron schedules only go
// forward: look back by growing steps, then walk forward).
func lastRun(sched cron.Schedule, now time.Time) (time.Time, bool) {
	next := sched.Next(now)
	if next.IsZero() {
		return time.Time{}, false
	}
	step := max(sched.Next(next).Sub(next), time.Minute)
	for back := step; back <= 2*366*24*time.Hour; back *= 2 {
		t := sched.Next(now.Add(-back))
		if t.IsZero() || t.After(now) {
			continue
		}
		for n := sched.Next(t); !n.IsZero() && !n.After(now); n = sched.Next(n) {
			t = n
		}
		return t, true
	}
	return time.Time{}, false
}
