// Package pointtest helps test code that produces or consumes points.
//
// [Recorder] is a concurrency-safe [point.Sink] that keeps a deep copy of
// every batch it receives, for tests of inputs. [TestSink] is a conformance
// test, in the spirit of testing/slogtest, that any Sink implementation can
// run to show it honours the point.Sink contract.
package pointtest
