// Package wire reads and writes the private channel between pythond and
// the Python processes it supervises: frames (Reader, AppendFrame,
// AppendAck, ParseDataMeta) and the marshal payload of a report
// (Decoder), whose errors are protocol's *DecodeError and
// *DecodeErrors, as for the JSON write API.
//
// The format is specified in FORMAT.md beside this file, and only there.
package wire
