// Package alerts turns findings into mail that school leaders can act on.
//
// The pipeline follows Alertmanager's notify stages: route each finding to
// the leaders whose roles the rule names (Router), hold it briefly so that
// findings for the same leader and school share one mail, or until the
// digest (Grouper), render plain-text and HTML parts carrying the guidance
// (Renderer), write the mail to the store's outbox before any attempt
// (Enqueue), and deliver it with retries and backoff (Sender) over SMTP or as
// .eml files. Each stage persists its result before the next begins, so a
// crash loses nothing, and the alert log stops the same item from reaching
// the same person twice.
package alerts
