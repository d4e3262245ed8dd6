// Package collectdconf reads collectd.conf as collectd 5.12 reads it, for
// the pythond collectd framework: the globals that matter to Python
// plugins, the python plugin's LoadPlugin and <Plugin python> blocks, and
// the names of the other plugins, which are skipped.
//
// # Syntax
//
// The facts below were found by running collectd 5.12 (-T reads the file
// and runs the reads once; -t exits 0 without reading it) and are checked
// against it by this package's tests. A line is an option (a bare word,
// then one or more values), a block start <Key values...>, a block end
// </Key> (the key exactly as opened: the match is case-sensitive), a
// comment (# to the end of the line, outside quotes) or empty. Values are
// quoted strings ("a \"b\" \\ c"; a backslash takes the next character
// literally; newlines may occur inside), numbers (decimal, 0x hex, floats
// whose exponent has a sign: 1.5e+3; 010 is ten; all become float64), the
// unquoted lowercase booleans true, yes, on, false, no and off, and bare
// words: letters, digits and underscores, or an IP address with an
// optional port, such as 127.0.0.1:80 or [::1]:80. Any other character
// outside quotes ('.', '-', ':', '=', ...) separates values, so foo.bar
// is the two words foo and bar; '/' is an error (paths must be quoted). A
// backslash at the end of a line joins the next one. A block with no
// values and no children is dropped.
//
// # Includes
//
// Include "path" (at the top level of a file only: inside a block it is an
// ordinary option, as in collectd) includes a file, a directory (its files
// and subdirectories recursively, in byte order of their names, skipping
// names that start with a dot) or the matches of a wildcard pattern; the
// block form <Include "dir"> Filter "*.conf" </Include> keeps only files
// whose base name matches. Includes nest at most 8 files deep, the main
// file counting; a loop is an error naming the chain. An Include that
// matches nothing is a warning, as collectd only logs it.
//
// # Paths
//
// collectd resolves a relative Include, TypesDB or ModulePath against its
// working directory at start-up, not against the file's directory nor
// BaseDir (it changes to BaseDir only after reading the file);
// [Options.Dir] stands for that directory.
//
// # Options
//
// Global options are matched case-insensitively. Hostname, FQDNLookup,
// Interval, MaxReadInterval, ReadThreads, TypesDB (several values, several
// lines) and AutoLoadPlugin are read; BaseDir, PIDFile, PluginDir,
// CollectInternalStats, Timeout, WriteThreads, WriteQueueLimitHigh,
// WriteQueueLimitLow, PreCacheChain, PostCacheChain and <Chain> blocks are
// accepted and ignored; other keys are ignored with a warning. A global
// with more than one value is an error, as in collectd; a number where a
// string is expected reads as collectd formats it (Hostname 12 is
// "12.000000"); an Interval that is not a positive number keeps the
// default with a warning. LoadPlugin and <Plugin> of other plugins are
// listed in [Config.Skipped]. In <Plugin python>, ModulePath, Import,
// LogTraces, Interactive, Encoding and <Module name> are read (each with
// the argument checks of collectd's python plugin, whose failures are
// errors) and any other key is an error, as in collectd.
//
// Differences from collectd, on purpose: a file with no LoadPlugin python
// has its <Plugin python> blocks read (collectd ignores them unless
// AutoLoadPlugin is true), so a file of just those blocks works; Encoding
// is a warning (collectd refuses to start on Python 3); IPv6 addresses are
// recognized with the standard library's parser, which may differ from
// collectd's scanner on odd forms; wildcards are those of filepath.Glob
// (collectd uses wordexp, which also expands ~ and $VAR).
package collectdconf
