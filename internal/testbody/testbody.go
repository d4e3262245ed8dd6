// Package testbody generates deterministic request bodies for benchmarks.
package testbody

// Lines is the number of points in every body this package generates.
const Lines = 10000

// LineProtocol returns a line-protocol body of Lines lines.
func LineProtocol() []byte { return nil }

// JSON returns the same points as LineProtocol as a DataKit JSON body.
func JSON() []byte { return nil }
