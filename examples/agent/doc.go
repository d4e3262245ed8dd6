// Command agent is a complete collector agent built only from collectkit's
// public API: it serves DataKit's write API (and the InfluxDB and Pushgateway
// compatible routes), runs DataKit-style Python collectors, and prints or
// forwards every accepted point.
//
// With no flags it listens on 127.0.0.1:9529, runs the bundled demo
// collector, and prints accepted points as line protocol on stdout:
//
//	go run ./examples/agent
//
// Flags:
//
//	-config FILE   TOML configuration (default: the embedded default.toml)
//	-listen ADDR   overrides the configuration's listen address
//	-out DIR       also append every point to DIR/<category>.lp
//
// SIGINT or SIGTERM stops it cleanly: the HTTP server drains, Python
// collectors are stopped, sinks are flushed, and it exits 0.
package main
