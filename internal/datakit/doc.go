// Package datakit holds the DataKit error vocabulary that every ingest
// path of collectkit answers in: the error codes (one name per condition,
// whichever path reports it) and the messages that explain a batch left
// without points. httpapi re-exports the codes as its Code* constants.
//
// DataKit builds its codes as "datakit." followed by a lowerCamel name;
// the codes collectkit adds for conditions DataKit has no code for are
// built the same way.
package datakit
