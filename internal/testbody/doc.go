// Package testbody generates the deterministic request bodies that the
// benchmarks of several packages share, so that their figures can be
// compared: the same 10,000 realistic points as line protocol
// (LineProtocol) and as a DataKit JSON array (JSON).
//
// The points cycle through six measurements (cpu, mem, disk, net, nginx,
// mysql), each with 3 or 4 tags and three fields (float, integer, string
// and boolean values), like what hosts and services report. One point in
// 100 has a tag value and an extra string field that need escaping (spaces, commas,
// equals signs, quotes, backslashes, newlines, non-ASCII). Timestamps are
// nanoseconds, one millisecond apart from 2023-11-14T22:13:20Z. The line
// protocol body is about 1 MB.
//
// Every call builds a fresh body from a fixed seed: the result is the same
// on every call and every machine, and callers may modify it. The
// functions are safe for concurrent use.
package testbody
