//go:build tools

package tools

import (
	_ "github.com/cloudflare/ahocorasick"
	_ "github.com/emersion/go-smtp"
	_ "github.com/go-mail/mail/v2"
	_ "github.com/goccy/go-yaml"
	_ "github.com/mmcdole/gofeed"
	_ "github.com/prometheus/client_golang/prometheus"
	_ "github.com/prometheus/exporter-toolkit/web"
	_ "github.com/robfig/cron/v3"
	_ "github.com/yuin/goldmark"
	_ "golang.org/x/text/unicode/norm"
	_ "modernc.org/sqlite"
)
