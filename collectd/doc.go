// Package collectd reads what collectd produces: its types.db files, value
// lists and notifications, its write_http JSON format and its binary network
// protocol, and maps value lists and notifications to points.
package collectd
