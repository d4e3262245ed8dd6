// Package netdataconf turns a set of python.d module dirs and their YAML
// configuration into the jobs file the Netdata runner reads, with the
// semantics of python.d.plugin 1.37.
//
// # Discovery
//
// [Resolve] lists the <name>.chart.py files of [Options.ModuleDirs] (names
// keep their case; for a name found twice the first dir wins) and keeps those
// of [Options.Modules] when that list is set.
//
// # python.d.conf
//
// python.d.conf is read from [Options.ConfDir], then from each module dir; the
// files are merged key by key, the first one to set a key winning (as the
// plugin merges its user file over the stock one). Keys: enabled (the whole
// plugin), default_run, gc_run and gc_interval (accepted and ignored), and
// "<module>: yes|no". A module runs when its key is true, or when it has no
// key and default_run is true. A true key also makes
// [Module.EnabledExplicitly], which is what lets a module with
// disabled_by_default = True run.
//
// # <module>.conf
//
// The conf file is <name>.conf in ConfDir, else beside the module: the first
// found is used, never a merge. YAML is read as PyYAML's SafeLoader reads it
// (YAML 1.1 scalars: yes/no are booleans, 010 is octal), with mappings kept in
// file order. When a top-level value is a mapping, each such mapping is a job
// named by its key, and top-level scalars are inherited only for the five
// default keys update_every, priority, autodetection_retry, chart_cleanup
// and penalty. Otherwise the whole file is one job named after the module; no
// file at all gives that job with defaults only. "name:" becomes
// [Job.OverrideName]; whitespace runs become "_" in both names. Legacy keys
// such as retries are kept in [Job.Config] like any other key.
//
// For the five default keys the job's own value wins, then the file's top
// level; both are listed in [Job.Explicit]. Keys not listed hold the plugin's
// base defaults and give way to the module's globals, which only the Python
// runner can read. update_every is raised to [Options.UpdateEveryMin].
//
// # Errors
//
// A conf file that does not parse drops its module; a job with a bad default
// key drops that job; a python.d.conf that does not parse is skipped, the
// others (and the defaults) still apply, as python.d.plugin does. Each problem is an [*Error] naming file, line, module
// and key, wrapping a sentinel such as [ErrSyntax]; [Resolve] returns them
// joined next to the jobs file of everything else.
//
// Resolve only reads files; it is safe for concurrent use.
package netdataconf
