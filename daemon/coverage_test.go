package daemon

import (
	"testing"

	"github.com/schoolwatch/schoolwatch/watchers"
)

func TestSourceKind(t *testing.T) {
	for url, want := range map[string]string{
		"https://news.google.com/rss/search?q=%22Harbourside+Academy%22&hl=en-GB&gl=GB&ceid=GB:en":   KindGoogleNews,
		"https://www.google.com/alerts/feeds/01234567890/1234567890":                                 KindGoogleAlerts,
		"https://www.reddit.com/search.rss?q=%22Harbourside%22&sort=new":                             KindReddit,
		"https://old.reddit.com/r/kent/new/.rss":                                                     KindReddit,
		"https://mastodon.social/tags/Folkestone.rss":                                                KindMastodon,
		"https://mastodon.social/@kentonline.rss":                                                    KindMastodon,
		"https://bridge.example.org/?action=display&bridge=FacebookBridge&context=Group&format=Atom": KindBridge,
		"http://rsshub.example.org/telegram/channel/kent":                                            KindBridge,
		"https://www.kentonline.co.uk/feed/":                                                         KindRSS,
		"file://examples/feeds/local-news.xml":                                                       KindRSS,
	} {
		if got := SourceKind(watchers.Feed{URL: url}); got != want {
			t.Errorf("SourceKind(%s) = %q, want %q", url, got, want)
		}
	}
	if got := SourceKind(watchers.Feed{Stream: true, URL: "wss://jetstream2.us-east.bsky.network/subscribe"}); got != KindJetstream {
		t.Errorf("a jetstream feed is %q", got)
	}
}

// TestCoverage: the example config's demo feeds are rss/atom; every kind
// is listed, and the closed platforms are not reachable.
func TestCoverage(t *testing.T) {
	p, _ := reportPlan(t)
	got := map[string]SourceCoverage{}
	for _, c := range Coverage(p) {
		got[c.Kind] = c
	}
	if c := got[KindRSS]; c.Feeds != 2 || !c.Reachable {
		t.Errorf("rss/atom = %+v, want the 2 demo feeds", c)
	}
	for _, k := range []string{KindGoogleNews, KindGoogleAlerts, KindReddit, KindMastodon, KindJetstream, KindBridge} {
		if c, ok := got[k]; !ok || c.Feeds != 0 || !c.Reachable || c.Hint == "" {
			t.Errorf("%s = %+v, want listed, not configured, with a hint", k, c)
		}
	}
	for _, k := range []string{"facebook", "x", "instagram", "tiktok", "nextdoor"} {
		if c, ok := got[k]; !ok || c.Reachable {
			t.Errorf("%s = %+v, want listed as not reachable", k, c)
		}
	}
}
