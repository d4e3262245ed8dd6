//go:build race

package httpapi_test

// raceEnabled tells tests that measure time or memory that the race
// detector makes both several times larger.
const raceEnabled = true
