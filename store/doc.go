// Package store is schoolwatch's persistence: an embedded SQLite database
// (modernc.org/sqlite, pure Go, so no C toolchain is needed) holding the
// items already seen, per-feed polling state, findings waiting to be grouped
// into a mail, the outbox of rendered mails, and the alert log that stops the
// same item from reaching the same person twice.
//
// Every state change that must not be half-done (an item marked seen together
// with the findings it produced; a mail enqueued together with the removal of
// the findings it carries) happens in one transaction, so a crash at any
// point loses nothing and repeats nothing.
package store
