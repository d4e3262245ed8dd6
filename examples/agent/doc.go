// Command agent is a complete collector agent built only from collectkit's
// public API: it serves DataKit's write API (and the InfluxDB, Pushgateway
// and collectd write_http compatible routes), runs DataKit-style Python
// collectors, scrapes Prometheus exporters, receives collectd's network
// protocol, and prints or forwards every accepted point.
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
//	-out-sync P    when -out files are fsynced: always (default), interval, never
//
// A write to an -out file (or a [sink] of kind "file") is acknowledged only
// once its lines are in the file, so killing the agent loses nothing it
// answered 200 for; the sync policy decides what survives a machine crash.
// A full disk is answered 429 (busy) until space returns, and a torn last
// line left by a crash is cut off at the next start.
//
// Configuration keys beyond the listen address, inputs and sink:
//
//	token = "..."                      required of every client when set
//	allow_remote = true                accept non-loopback clients; needs a token, or
//	allow_remote_without_token = true  to say that open access is intended
//	memory_limit = 402653184           Go soft memory limit (default 384 MiB unless
//	                                   GOMEMLIMIT is set; negative: none)
//	[http]                             request limits (0: default, negative: none)
//	max_body_bytes, max_decoded_bytes, max_points, max_in_flight_bytes,
//	body_read_timeout, min_body_rate, max_push_labels, max_push_label_bytes
//	                                   httpapi.Limits, its defaults
//	max_in_flight = 64                 write requests processed at once
//	max_connections = 1024             open client connections
//	[collectd_network]                 collectd's network protocol over UDP: listen
//	                                   (127.0.0.1:25826), security_level, auth_file, types_db
//	[[inputs.prom]]                    scrape Prometheus exporters: urls, name (job),
//	                                   interval (30s), timeout, tags, bearer_token_file,
//	                                   username/password, tls_*, honor_labels
//	[sink]
//	sync = "always"                    fsync policy of kind "file" and "influx"
//	sync_interval = "1s"
//
// GET /metrics (the forwarder's counters and each [[inputs.prom]] target's
// state) is guarded like the write API:
// loopback only unless allow_remote, and the token when one is set.
//
// SIGINT or SIGTERM stops it cleanly: the HTTP server drains, Python
// collectors are stopped, sinks are flushed, and it exits 0.
package main
