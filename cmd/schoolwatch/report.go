package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/schoolwatch/schoolwatch/alerts"
	"github.com/schoolwatch/schoolwatch/daemon"
)

func init() {
	register(&command{
		name:    "report",
		usage:   "-config FILE -school ID [-url URL] [-author NAME] [-where PLATFORM] [-category CAT] TEXT",
		summary: "record a post seen where no feed reaches (text from the argument or standard input), match it and mail the school's leaders",
		run:     runReport,
	})
}

// maxReportText bounds the text read from standard input.
const maxReportText = 1 << 20

func runReport(ctx context.Context, e *env, args []string) error {
	fs := e.flags("report")
	school := fs.String("school", "", "the `ID` of the school the post is about (required)")
	link := fs.String("url", "", "the post's address, if it has one")
	author := fs.String("author", "", "who posted it, as shown on the platform")
	where := fs.String("where", "", "the `PLATFORM` it was seen on (\"Facebook group\", \"WhatsApp\")")
	category := fs.String("category", "", "if no rule matches the text, mail it as this category (`CAT`: threat, complaint, ...)")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if *school == "" {
		return &exitError{code: 2, err: fmt.Errorf("schoolwatch report: -school is required\nusage: schoolwatch report %s", commands["report"].usage)}
	}
	text := strings.Join(pos, " ")
	if text == "" || text == "-" {
		b, err := io.ReadAll(io.LimitReader(os.Stdin, maxReportText+1))
		if err != nil {
			return err
		}
		if len(b) > maxReportText {
			return &exitError{code: 2, err: fmt.Errorf("schoolwatch report: the text on standard input is over %d bytes", maxReportText)}
		}
		text = string(b)
	}
	p, err := e.load()
	if err != nil {
		return err
	}
	res, err := daemon.Report(ctx, p, daemon.ReportedPost{
		School: *school, Text: text, URL: *link, Author: *author, Where: *where, Category: *category, Logger: e.logger(),
	})
	if err != nil {
		return err
	}
	if res.Duplicate {
		fmt.Fprintf(e.stderr, "this post was already reported for school %s: nothing sent again\n", alerts.SanitizeText(*school, 0))
		return nil
	}
	for _, f := range res.Findings {
		how := "matched"
		if !res.Matched {
			how = "reported"
		}
		fmt.Fprintf(e.stdout, "%s\t%s\tschool=%s\trule=%s\tguidance=%s\t%s\n", strings.ToUpper(f.Severity), f.Category, f.School, f.Rule, f.Guidance, how)
	}
	if res.Handed {
		fmt.Fprintln(e.stderr, "recorded; the running daemon holds the store and mails it (critical findings at once, others after mail.group_wait)")
		return nil
	}
	fmt.Fprintf(e.stderr, "%d mails queued, %d delivered, %d waiting in the outbox\n", res.Queued, res.Delivered, res.Waiting)
	if res.Waiting > 0 {
		return &exitError{code: 1, err: fmt.Errorf("schoolwatch report: %d mails could not be delivered yet; they stay in the outbox and `schoolwatch run` retries them", res.Waiting)}
	}
	return nil
}
