//go:build race

package daemon

// raceEnabled: retraining under the race detector takes minutes.
const raceEnabled = true
