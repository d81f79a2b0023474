package daemon

import (
	"net/url"
	"path/filepath"
	"strings"

	"github.com/schoolwatch/schoolwatch/config"
	"github.com/schoolwatch/schoolwatch/watchers"
)

// expandFeeds turns the configured feeds into the concrete ones watchers
// polls or follows, with their schedules parsed once: a per_school template
// expands once per school, or once per hashtag of each school for a
// template that uses {{ .Hashtag }} (ID "feedid/schoolid/tag"). A paused
// school, or one that lacks what the template uses (a domain, hashtags),
// gets none. File URLs are resolved against the config file.
func expandFeeds(cfg *config.Config) ([]watchers.Feed, error) {
	var out []watchers.Feed
	for _, f := range cfg.Feeds {
		base := watchers.Feed{
			ID: f.ID, Name: f.Name, Stream: f.Type == config.FeedTypeJetstream, URL: f.URL,
			Timeout: f.Timeout.Duration, MaxItemAge: f.MaxItemAge.Duration, QuietAfter: f.QuietAfter.Duration,
			MaxItems: f.MaxItems,
		}
		if !base.Stream {
			base.Schedule = f.Cron
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

// resolveFileURL makes a relative file URL relative to the config file.
func resolveFileURL(cfg *config.Config, raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "file" {
		return raw
	}
	p := watchers.FilePath(u)
	if filepath.IsAbs(p) {
		return raw
	}
	abs, err := filepath.Abs(cfg.Resolve(p))
	if err != nil {
		return raw
	}
	return (&url.URL{Scheme: "file", Path: filepath.ToSlash(abs)}).String()
}
