// Package protocol decodes and encodes DataKit's write bodies: InfluxDB line
// protocol with DataKit's extensions, and DataKit's JSON array.
package protocol
