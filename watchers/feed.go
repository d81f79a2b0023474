package watchers

import (
	"net/url"
	"strings"
	"time"

	"github.com/schoolwatch/schoolwatch/config"
)

// Feed is one concrete source to poll. A per_school feed in the config
// becomes one Feed per school, with ID "feedid/schoolid".
type Feed struct {
	ID   string
	Name string
	// Type is config.FeedTypeRSS (polled; "" means the same) or
	// config.FeedTypeJetstream (a stream, followed by a Stream).
	Type       string
	URL        string
	Schedule   string
	Timeout    time.Duration
	MaxItemAge time.Duration
	QuietAfter time.Duration
	// MaxItems caps the entries read from one document (0: DefaultMaxItems).
	MaxItems int
	// SchoolID is set for feeds expanded from a per_school template: the
	// school whose name the query searched for.
	SchoolID string
}

// DefaultMaxItems is the cap on the entries read from one document when a
// Feed does not set one.
const DefaultMaxItems = config.DefaultMaxItems

// Streamed reports whether the feed is a stream (type jetstream): it is
// followed continuously by a Stream, never polled.
func (f Feed) Streamed() bool { return f.Type == config.FeedTypeJetstream }

func (f Feed) maxItems() int {
	if f.MaxItems > 0 {
		return f.MaxItems
	}
	return DefaultMaxItems
}

// Expand turns the configured feeds into concrete ones, expanding per_school
// templates once per school, or once per hashtag of each school for a
// template that uses {{ .Hashtag }} (ID "feedid/schoolid/tag"). A paused
// school, or one that lacks what the template uses (a domain, hashtags),
// gets none. File URLs are resolved against the config file.
func Expand(cfg *config.Config) ([]Feed, error) {
	var out []Feed
	for _, f := range cfg.Feeds {
		base := Feed{
			ID: f.ID, Name: f.Name, Type: f.Type, URL: f.URL, Schedule: f.Schedule,
			Timeout: f.Timeout.Duration, MaxItemAge: f.MaxItemAge.Duration, QuietAfter: f.QuietAfter.Duration,
			MaxItems: f.MaxItems,
		}
		if !f.PerSchool {
			base.URL = resolveFileURL(cfg, base.URL)
			out = append(out, base)
			continue
		}
		ft, err := config.ParseFeedTemplate(f.URL)
		if err != nil {
			return nil, err
		}
		for _, s := range cfg.Schools {
			if s.Paused {
				continue
			}
			us, err := ft.URLs(s)
			if err != nil {
				return nil, err
			}
			for _, u := range us {
				fs := base
				fs.ID = f.ID + "/" + s.ID
				fs.Name = f.Name + " (" + s.Name + ")"
				if u.Hashtag != "" {
					fs.ID += "/" + strings.ToLower(url.QueryEscape(u.Hashtag))
					fs.Name = f.Name + " (" + s.Name + ", #" + u.Hashtag + ")"
				}
				fs.URL = resolveFileURL(cfg, u.URL)
				fs.SchoolID = s.ID
				out = append(out, fs)
			}
		}
	}
	return out, nil
}
