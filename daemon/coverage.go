package daemon

import (
	"net/url"
	"strings"

	"github.com/schoolwatch/schoolwatch/watchers"
)

// SourceCoverage is one kind of source: how many of the configured feeds
// are of it, or that no feed can reach it.
type SourceCoverage struct {
	Kind  string
	Feeds int
	// Reachable is false for platforms no free, reliable feed reaches
	// (2026): what is seen there comes in through `schoolwatch report`.
	Reachable bool
	// Hint says how to add the kind when no feed is of it.
	Hint string
}

// The source kinds Coverage reports, in its order.
const (
	KindRSS          = "rss/atom"
	KindGoogleNews   = "google news"
	KindGoogleAlerts = "google alerts"
	KindReddit       = "reddit"
	KindMastodon     = "mastodon"
	KindJetstream    = "bluesky jetstream"
	KindBridge       = "rss-bridge/rsshub"
)

var coverageKinds = []SourceCoverage{
	{Kind: KindRSS, Reachable: true, Hint: "local news sites, YouTube channel feeds, school and council news"},
	{Kind: KindGoogleNews, Reachable: true, Hint: `a per_school news.google.com/rss/search feed (README, "Google News, per school")`},
	{Kind: KindGoogleAlerts, Reachable: true, Hint: "an alert delivered to an RSS feed (Atom)"},
	{Kind: KindReddit, Reachable: true, Hint: "reddit.com/search.rss per school; Reddit answers about one request a minute"},
	{Kind: KindMastodon, Reachable: true, Hint: "https://INSTANCE/tags/TAG.rss on a few large UK instances"},
	{Kind: KindJetstream, Reachable: true, Hint: "type: jetstream, every public Bluesky post (about 2 GB a day)"},
	{Kind: KindBridge, Reachable: true, Hint: "a self-hosted RSS-Bridge or RSSHub for sites without feeds"},
	{Kind: "facebook", Hint: "groups are private, public pages need a login: use schoolwatch report"},
	{Kind: "x", Hint: "paid API only: use schoolwatch report"},
	{Kind: "instagram", Hint: "business account and app review only: use schoolwatch report"},
	{Kind: "tiktok", Hint: "research API for universities only: use schoolwatch report"},
	{Kind: "nextdoor", Hint: "partners only: use schoolwatch report"},
}

// Coverage counts the plan's feeds by source kind, every kind listed,
// configured or not, and the platforms no feed reaches: the honest account
// of what schoolwatch can see that `status` ends with.
func Coverage(p *Plan) []SourceCoverage {
	out := append([]SourceCoverage(nil), coverageKinds...)
	for _, f := range p.Feeds {
		k := SourceKind(f)
		for i := range out {
			if out[i].Kind == k {
				out[i].Feeds++
			}
		}
	}
	return out
}

// SourceKind names the kind of source a feed reads, from its type and URL.
func SourceKind(f watchers.Feed) string {
	if f.Streamed() {
		return KindJetstream
	}
	u, err := url.Parse(f.URL)
	if err != nil {
		return KindRSS
	}
	host := strings.TrimPrefix(strings.ToLower(u.Hostname()), "www.")
	path := strings.ToLower(u.Path)
	q := u.Query()
	switch {
	case host == "news.google.com":
		return KindGoogleNews
	case (host == "google.com" || strings.HasSuffix(host, ".google.com")) && strings.HasPrefix(path, "/alerts/feeds"):
		return KindGoogleAlerts
	case host == "reddit.com" || strings.HasSuffix(host, ".reddit.com"):
		return KindReddit
	case q.Get("action") == "display" && q.Get("bridge") != "", strings.Contains(host, "rsshub"), strings.Contains(host, "rss-bridge"):
		return KindBridge
	case strings.HasPrefix(path, "/tags/") && strings.HasSuffix(path, ".rss"),
		strings.HasPrefix(path, "/@") && strings.HasSuffix(path, ".rss"):
		return KindMastodon
	}
	return KindRSS
}
