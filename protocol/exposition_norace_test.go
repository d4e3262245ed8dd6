//go:build !race

package protocol_test

// expoRace tells timing checks that the race detector slows everything.
const expoRace = false
