package config

import (
	"slices"
	"strings"
	"testing"
)

func TestFeedTemplateFields(t *testing.T) {
	stMarys := School{
		ID: "118123", Name: "St Mary's Church of England Primary School", ShortName: "St Mary's", Town: "Folkestone",
		Domains: []string{"WWW.StMarys-Folkestone.kent.sch.uk"}, Hashtags: []string{"#StMarysFolkestone", "stmarysfolkestone", "#StMarysPTA"},
	}
	bare := School{ID: "118124", Name: "Elm School"}
	cases := []struct {
		name, tmpl string
		school     School
		want       []string
	}{
		{"short name and town", "https://news.google.com/rss/search?q=%22{{ .Short }}%22+{{ .Town }}", stMarys,
			[]string{"https://news.google.com/rss/search?q=%22St+Mary%27s%22+Folkestone"}},
		{"short name falls back to the name", "https://news.google.com/rss/search?q=%22{{ .Short }}%22", bare,
			[]string{"https://news.google.com/rss/search?q=%22Elm+School%22"}},
		{"one feed per hashtag, case-insensitively distinct", "https://mastodon.social/tags/{{ .Hashtag }}.rss", stMarys,
			[]string{"https://mastodon.social/tags/StMarysFolkestone.rss", "https://mastodon.social/tags/StMarysPTA.rss"}},
		{"no hashtags, no feed", "https://mastodon.social/tags/{{ .Hashtag }}.rss", bare, nil},
		{"the first domain, without www.", "https://{{ .Domain }}/feed/", stMarys,
			[]string{"https://stmarys-folkestone.kent.sch.uk/feed/"}},
		{"$.Domain counts as using it", "https://example.org/?site={{ $.Domain }}", bare, nil},
		{"no domain, no feed", "https://{{ .Domain }}/feed/", bare, nil},
		{"the old fields", "https://example.org/?q={{ .Query }}&n={{ .Name }}&id={{ .ID }}&t={{ .Town }}", bare,
			[]string{"https://example.org/?q=Elm+School&n=Elm+School&id=118124&t="}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ft, err := ParseFeedTemplate(tc.tmpl)
			if err != nil {
				t.Fatal(err)
			}
			us, err := ft.URLs(tc.school)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, u := range us {
				got = append(got, u.URL)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("URLs:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
		})
	}
}

func TestFeedTemplateRejected(t *testing.T) {
	for _, tmpl := range []string{
		"https://example.org/?q={{ .Nope }}",
		"https://example.org/?q={{ .Query",
		"{{ .Domain }}/feed",
	} {
		_, err := Parse("c.yml", []byte(minimal+"feeds:\n  - { id: f, per_school: true, url: \""+tmpl+"\" }\n"))
		if err == nil || !strings.Contains(err.Error(), "feeds[0].url") {
			t.Errorf("%s: error = %v", tmpl, err)
		}
	}
}
