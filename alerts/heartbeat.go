package alerts

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	htmltemplate "html/template"
	"strings"
	texttemplate "text/template"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/schoolwatch/schoolwatch/config"
	"github.com/schoolwatch/schoolwatch/store"
	"github.com/schoolwatch/schoolwatch/watchers"
)

var (
	heartbeatFuncs = map[string]any{"join": strings.Join}
	heartbeatText  = texttemplate.Must(texttemplate.New("heartbeat.txt.tmpl").Funcs(heartbeatFuncs).ParseFS(templateFS, "templates/heartbeat.txt.tmpl"))
	heartbeatHTML  = htmltemplate.Must(htmltemplate.New("heartbeat.html.tmpl").Funcs(heartbeatFuncs).ParseFS(templateFS, "templates/heartbeat.html.tmpl"))
)

// Heartbeat sends the periodic "all quiet" mail to school leaders, so that
// silence in their inbox means nothing was found rather than that
// schoolwatch broke.
type Heartbeat struct {
	Store         *store.Store
	Config        *config.Config // schools and leaders
	Feeds         []watchers.Feed
	Policy        watchers.HealthPolicy
	From          string
	SubjectPrefix string
	Host          string
	Location      *time.Location
	Wake          func()
	Metrics       *NoticeMetrics
	Now           func() time.Time // for the Date header; nil means time.Now
}

// HeartbeatSchool is one school's lines in a heartbeat.
type HeartbeatSchool struct {
	Name    string
	Feeds   int      // feeds watched for the school
	Items   int64    // items first seen in the period on those feeds
	Alerted int      // items alerted to this leader in the period
	Failing []string // ids of the school's feeds now failing
}

// Send enqueues one heartbeat per leader (heartbeat not turned off)
// covering the period [from, to), where to is the scheduled time. The
// content key is derived from the leader and to, so a schedule fires at
// most one mail per leader however often Send is retried. Items checked
// are counted from the store's seen items by first-seen time, so the
// figure covers every configured feed the school depends on: its
// per_school expansions and every shared feed. It returns how many mails
// were newly enqueued.
func (h *Heartbeat) Send(ctx context.Context, from, to time.Time) (int, error) {
	items, err := h.Store.NewItemsByFeed(ctx, from, to)
	if err != nil {
		return 0, err
	}
	states, err := h.Store.FeedStates(ctx)
	if err != nil {
		return 0, err
	}
	stateOf := make(map[string]store.FeedState, len(states))
	for _, st := range states {
		stateOf[st.FeedID] = st
	}
	loc := h.Location
	if loc == nil {
		loc = time.UTC
	}
	// One mail per address, covering every school the person leads.
	type leader struct {
		name, email string
		schools     []*config.School
	}
	var order []string
	byEmail := map[string]*leader{}
	for i := range h.Config.Schools {
		s := &h.Config.Schools[i]
		for _, l := range s.Leaders {
			if l.Heartbeat != nil && !*l.Heartbeat {
				continue
			}
			addr := strings.ToLower(strings.TrimSpace(l.Email))
			ld, ok := byEmail[addr]
			if !ok {
				ld = &leader{name: l.Name, email: addr}
				byEmail[addr] = ld
				order = append(order, addr)
			}
			if len(ld.schools) == 0 || ld.schools[len(ld.schools)-1] != s {
				ld.schools = append(ld.schools, s)
			}
		}
	}
	sent := 0
	for _, addr := range order {
		ld := byEmail[addr]
		data := struct {
			Name, From, To string
			Schools        []HeartbeatSchool
		}{Name: ld.name, From: from.In(loc).Format("Mon 2 Jan"), To: to.In(loc).Format("Mon 2 Jan 2006 15:04")}
		alerted, err := h.Store.AlertedItems(ctx, ld.email, from, to)
		if err != nil {
			return sent, err
		}
		for _, s := range ld.schools {
			hs := HeartbeatSchool{Name: s.Name}
			if len(ld.schools) == 1 {
				hs.Alerted = alerted
			}
			for _, f := range h.Feeds {
				if f.SchoolID != "" && f.SchoolID != s.ID {
					continue
				}
				hs.Feeds++
				hs.Items += items[f.ID]
				if h.Policy.Evaluate(stateOf[f.ID], f, to) == watchers.HealthFailing {
					hs.Failing = append(hs.Failing, f.ID)
				}
			}
			data.Schools = append(data.Schools, hs)
		}
		if len(ld.schools) > 1 && alerted > 0 {
			// The alert log is per person, not per school: show the total once.
			data.Schools[0].Alerted = alerted
		}
		sum := sha256.Sum256([]byte(fmt.Sprintf("%s\x00%d", ld.email, to.Unix())))
		key := "heartbeat-" + hex.EncodeToString(sum[:])[:32]
		var text, html bytes.Buffer
		if err := heartbeatText.Execute(&text, data); err != nil {
			return sent, fmt.Errorf("render heartbeat: %w", err)
		}
		if err := heartbeatHTML.Execute(&html, data); err != nil {
			return sent, fmt.Errorf("render heartbeat: %w", err)
		}
		subject := "weekly check-in: all quiet"
		if alerted > 0 {
			subject = fmt.Sprintf("weekly check-in: %d alert(s) this week", alerted)
		}
		for _, s := range data.Schools {
			if len(s.Failing) > 0 {
				subject += "; some sources not working"
				break
			}
		}
		if h.SubjectPrefix != "" {
			subject = h.SubjectPrefix + " " + subject
		}
		to := ld.email
		if ld.name != "" {
			to = fmt.Sprintf("%q <%s>", ld.name, ld.email)
		}
		raw, err := BuildMessage(Envelope{From: h.From, To: to, Subject: subject, MessageID: MessageID(key, h.Host), Date: h.now()}, text.String(), html.String())
		if err != nil {
			return sent, fmt.Errorf("build heartbeat: %w", err)
		}
		added, err := h.Store.Enqueue(ctx, h.now(), store.Message{Key: key, Kind: "heartbeat", Recipient: ld.email, Subject: subject, Raw: raw}, nil, nil)
		if err != nil {
			return sent, err
		}
		if added {
			sent++
			h.Metrics.count("heartbeat")
		}
	}
	if sent > 0 && h.Wake != nil {
		h.Wake()
	}
	return sent, nil
}

// Period is the heartbeat period that a run of sched at `to` closes: one
// interval of the schedule, ending at `to`.
func Period(sched cron.Schedule, to time.Time) (from time.Time) {
	return to.Add(-sched.Next(to).Sub(to))
}

// CatchUp sends the heartbeat of sched's latest run at or before now, as
// anacron does for a job whose time passed while the machine was off: a
// daemon that was down on Monday morning still reports on the week when it
// comes back. It does nothing when schoolwatch had seen no item before that
// run (a fresh install has no week to report on), and Send's content key
// makes it a no-op when that run's heartbeat was already queued. It returns
// how many mails were newly enqueued.
func (h *Heartbeat) CatchUp(ctx context.Context, sched cron.Schedule, now time.Time) (int, error) {
	to, ok := lastRun(sched, now)
	if !ok {
		return 0, nil
	}
	if before, err := h.Store.SeenBefore(ctx, to); err != nil || !before {
		return 0, err
	}
	return h.Send(ctx, Period(sched, to), to)
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

func (h *Heartbeat) now() time.Time {
	if h.Now != nil {
		return h.Now()
	}
	return time.Now()
}
