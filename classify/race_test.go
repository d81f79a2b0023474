//go:build race

package classify

// raceEnabled: retraining under the race detector takes minutes; the
// reproducibility test runs without it.
const raceEnabled = true
