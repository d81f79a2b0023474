package daemon

import (
	"slices"
	"strings"
	"testing"

	"github.com/schoolwatch/schoolwatch/config"
	"github.com/schoolwatch/schoolwatch/watchers"
)

// TestExpandPerSchoolTemplates: a per_school feed expands once per school
// that is not paused, once per hashtag for a {{ .Hashtag }} template, and
// not at all for a school that lacks the template's domain or hashtags.
func TestExpandPerSchoolTemplates(t *testing.T) {
	cfg, err := config.Parse("c.yml", []byte(`mail: { fallback: la@example.org }
schools:
  - id: "1"
    name: St Mary's Primary School
    short_name: St Mary's
    town: Folkestone
    hashtags: ["#StMarysFolkestone", "#StMarysPTA"]
    domains: [stmarys.example.sch.uk]
  - id: "2"
    name: Elm School
    town: Dover
  - id: "3"
    name: Ash School
    paused: true
    hashtags: ["#Ash"]
    domains: [ash.example.sch.uk]
feeds:
  - id: news
    url: "https://news.google.com/rss/search?q=%22{{ .Short }}%22+{{ .Town }}"
    per_school: true
  - id: tags
    url: "https://mastodon.social/tags/{{ .Hashtag }}.rss"
    per_school: true
  - id: site
    url: "https://{{ .Domain }}/feed/"
    per_school: true
  - id: county
    url: https://example.org/county.xml
`))
	if err != nil {
		t.Fatal(err)
	}
	feeds, err := expandFeeds(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range feeds {
		got = append(got, f.ID+" "+f.SchoolID+" "+f.URL+" | "+f.Name)
	}
	want := []string{
		"news/1 1 https://news.google.com/rss/search?q=%22St+Mary%27s%22+Folkestone | news (St Mary's Primary School)",
		"news/2 2 https://news.google.com/rss/search?q=%22Elm+School%22+Dover | news (Elm School)",
		"tags/1/stmarysfolkestone 1 https://mastodon.social/tags/StMarysFolkestone.rss | tags (St Mary's Primary School, #StMarysFolkestone)",
		"tags/1/stmaryspta 1 https://mastodon.social/tags/StMarysPTA.rss | tags (St Mary's Primary School, #StMarysPTA)",
		"site/1 1 https://stmarys.example.sch.uk/feed/ | site (St Mary's Primary School)",
		"county  https://example.org/county.xml | county",
	}
	if !slices.Equal(got, want) {
		t.Errorf("feeds:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestPerSchoolExpansion checks that a per_school feed becomes one feed per
// school, named feedid/schoolid, with the school's name URL-escaped.
func TestPerSchoolExpansion(t *testing.T) {
	cfg, err := config.Parse("c.yml", []byte(`schools:
  - { id: "1", name: "St Mary's & St John's", leaders: [{ email: a@x.org, roles: [head] }] }
  - { id: "2", name: Oak Primary, leaders: [{ email: b@x.org, roles: [head] }] }
feeds:
  - { id: reddit, url: "https://www.reddit.com/search.rss?q={{ .Query }}&sort=new", per_school: true }
  - { id: news, url: "https://news.example.org/feed.xml" }
`))
	if err != nil {
		t.Fatal(err)
	}
	feeds, err := expandFeeds(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range feeds {
		got = append(got, f.ID+" "+f.URL+" "+f.SchoolID)
	}
	want := []string{
		"reddit/1 https://www.reddit.com/search.rss?q=St+Mary%27s+%26+St+John%27s&sort=new 1",
		"reddit/2 https://www.reddit.com/search.rss?q=Oak+Primary&sort=new 2",
		"news https://news.example.org/feed.xml ",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("expanded:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// The entry cap has one default: config applies it to every feed, and
// watchers falls back to the same number for a Feed built without one.
func TestMaxItemsDefaultAgrees(t *testing.T) {
	if config.DefaultMaxItems != watchers.DefaultMaxItems {
		t.Errorf("config.DefaultMaxItems = %d, watchers.DefaultMaxItems = %d", config.DefaultMaxItems, watchers.DefaultMaxItems)
	}
}
