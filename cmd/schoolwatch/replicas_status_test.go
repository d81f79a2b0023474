package main

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/schoolwatch/schoolwatch/daemon"
	"github.com/schoolwatch/schoolwatch/store"
)

// TestWriteReplicas: status on a Postgres store names the leader and the
// replica that polled each feed last.
func TestWriteReplicas(t *testing.T) {
	at := time.Date(2026, 11, 30, 9, 15, 0, 0, time.UTC)
	var b bytes.Buffer
	writeReplicas(&b, daemon.ReplicaStatus{Leader: "vm1-42-ab", LeaderSince: at,
		Feeds: []store.FeedClaim{{FeedID: "news", Replica: "vm2-7-cd", LastPoll: at.Add(time.Minute)}}}, time.UTC)
	out := b.String()
	for _, want := range []string{"Leader: vm1-42-ab (since 2026-11-30 09:15:00)", "FEED  LAST POLLED BY  AT", "news  vm2-7-cd        2026-11-30 09:16:00"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	b.Reset()
	writeReplicas(&b, daemon.ReplicaStatus{}, time.UTC)
	if !strings.Contains(b.String(), "Leader: none yet") {
		t.Errorf("no leader: %q", b.String())
	}
}
