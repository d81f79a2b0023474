// Package alerts turns findings into mail that school leaders can act on,
// and tells the operator and the leaders how the watching itself goes.
//
// The pipeline follows Alertmanager's notify stages: route each finding to
// the leaders whose roles the rule names (Router), which makes it an Alert
// waiting in the store; hold it briefly so that alerts for the same leader
// and school share one mail, or until the digest (Grouper); render
// plain-text and HTML parts carrying the guidance (Renderer); and queue
// the mail in the outbox, in the same transaction that deletes the pending
// rows and writes the alert log. Operator notices about failing or quiet
// feeds (Notifier) and the leaders' weekly heartbeat (Heartbeat) are
// queued the same way. Package mail delivers what is queued.
//
// Each stage persists its result before the next begins, so a crash loses
// nothing, and the alert log stops the same item from reaching the same
// person twice. The stages take the small store interfaces they need
// (PendingStore, NoticeLog, ActivityLog), which *store.Store implements.
package alerts
