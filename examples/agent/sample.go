package main

import _ "embed"

// sampleConfig is what -sample-config prints: every key of Config,
// commented out (a test checks that none is missing).
//
//go:embed sample.toml
var sampleConfig []byte
