package collectdconf

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Options configure Load. The zero value is ready to use.
type Options struct {
	// Dir is the directory that relative paths resolve against: the
	// file's own path, Include, TypesDB and ModulePath. collectd resolves
	// them against its working directory at start-up (not the file's
	// directory, nor BaseDir). Empty means the process's working
	// directory; a relative Dir is made absolute, so every path in Config
	// is.
	Dir string
}

// Config is what a collectd.conf says that matters to its Python plugins.
// Zero values mean the file does not set the option.
type Config struct {
	// Hostname is the global Hostname; empty when unset.
	Hostname string
	// FQDNLookup is the global FQDNLookup, true (collectd's default) when
	// unset. collectd applies it only when Hostname is unset.
	FQDNLookup bool
	// Interval and MaxReadInterval are the global options; zero when
	// unset (collectd's defaults are 10s and 86400s).
	Interval, MaxReadInterval time.Duration
	// ReadThreads is the global ReadThreads; zero when unset (collectd's
	// default is 5).
	ReadThreads int
	// TypesDB are the files of every TypesDB option, in order, absolute.
	TypesDB []string
	// Python is the python plugin's configuration.
	Python Python
	// Skipped names the other plugins the file loads or configures, sorted,
	// each once; a host logs them once.
	Skipped []string
	// Warnings are problems collectd logs and starts anyway with (an
	// Include that matches nothing, an ignored value, a deprecated form),
	// each an *Error naming file and line.
	Warnings []error
	// Files are the files read, the main one first.
	Files []string
}

// Python is the configuration of the python plugin: its LoadPlugin and
// <Plugin python> blocks.
type Python struct {
	// Loaded is true when the file has LoadPlugin python. A file without
	// one (a file of just <Plugin python> blocks) has its python blocks
	// read anyway; collectd would ignore them unless AutoLoadPlugin is
	// true. A block before the LoadPlugin is ignored, as collectd does.
	Loaded bool
	// Globals is the <LoadPlugin python> option (accepted; it only
	// matters to an embedded interpreter).
	Globals bool
	// Interval is the <LoadPlugin python> block's Interval: the plugin's
	// default read interval instead of the global one; zero when unset.
	Interval time.Duration
	// Items are the ModulePath, Import and <Module> entries of every
	// <Plugin python> block, in file order.
	Items []Item
	// LogTraces and Interactive are the plugin's options (an interactive
	// console is not offered).
	LogTraces, Interactive bool
	// Encoding is the plugin's Encoding option; Python 3 ignores it.
	Encoding string
}

// ItemKind is the kind of an Item, as the runner's JSON config names it.
type ItemKind string

// The kinds of Item.
const (
	ItemModulePath ItemKind = "module_path" // ModulePath: Path
	ItemImport     ItemKind = "import"      // Import: Module
	ItemModule     ItemKind = "module"      // <Module Name>: Config is the block
)

// Item is one entry of a <Plugin python> block.
type Item struct {
	Kind   ItemKind
	Path   string // module_path: absolute
	Module string // import: the module name
	Name   string // module: the block's name
	// Config is the <Module> block itself (key "Module", values [name],
	// the lines inside as children), as the config callback receives it.
	Config *Node
}

// maxIncludeDepth is how many files deep includes may nest, the main file
// counting as one, as in collectd.
const maxIncludeDepth = 8

// Load reads the collectd.conf at path, and the files it includes, as
// collectd 5.12 reads them. A syntax error, an include loop, an unreadable
// file and a value collectd refuses to start with are errors (*Error, file
// and line, joined with errors.Join); what collectd only logs is in
// Config.Warnings.
func Load(path string, opts Options) (*Config, error) {
	dir := opts.Dir
	if dir == "" {
		wd, err := os.Getwd()
		if err != nil {
			return nil, fmt.Errorf("collectdconf: %w", err)
		}
		dir = wd
	}
	if !filepath.IsAbs(dir) {
		abs, err := filepath.Abs(dir)
		if err != nil {
			return nil, fmt.Errorf("collectdconf: %w", err)
		}
		dir = abs
	}
	l := &loader{dir: dir}
	nodes, err := l.file(l.abs(path), nil)
	if err != nil {
		return nil, err
	}
	cfg := &Config{FQDNLookup: true, Files: l.files}
	in := interpreter{cfg: cfg, l: l}
	in.top(nodes)
	cfg.Warnings = l.warns
	if len(l.errs) > 0 {
		return nil, errors.Join(l.errs...)
	}
	return cfg, nil
}

// loader reads files and expands their top-level includes.
type loader struct {
	dir   string
	stack []string
	files []string
	warns []error
	errs  []error
}

func (l *loader) abs(p string) string {
	if filepath.IsAbs(p) {
		return filepath.Clean(p)
	}
	return filepath.Join(l.dir, p)
}

func (l *loader) warn(n *Node, sentinel error, format string, args ...any) {
	l.warns = append(l.warns, errorAt(n, sentinel, format, args...))
}

func (l *loader) fail(n *Node, sentinel error, format string, args ...any) {
	l.errs = append(l.errs, errorAt(n, sentinel, format, args...))
}

// file reads and parses path, included by from (nil for the main file),
// and expands its includes. Only a syntax, loop or read error of a file is
// returned; its includes' problems are recorded.
func (l *loader) file(path string, from *Node) ([]*Node, error) {
	key := path
	if real, err := filepath.EvalSymlinks(path); err == nil {
		key = real
	}
	if i := slices.Index(l.stack, key); i >= 0 {
		chain := append(slices.Clone(l.stack[i:]), key)
		return nil, errorAt(from, ErrInclude, "include loop: %s", strings.Join(chain, " includes "))
	}
	if len(l.stack) >= maxIncludeDepth {
		return nil, errorAt(from, ErrInclude, "not including %s: includes nest deeper than %d files", path, maxIncludeDepth)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		if from == nil {
			return nil, &Error{File: path, Err: fmt.Errorf("%w: %w", ErrRead, err)}
		}
		return nil, errorAt(from, ErrRead, "%v", err)
	}
	l.files = append(l.files, path)
	nodes, err := parse(string(data), path)
	if err != nil {
		return nil, err
	}
	l.stack = append(l.stack, key)
	defer func() { l.stack = l.stack[:len(l.stack)-1] }()
	var out []*Node
	for _, n := range nodes {
		if !strings.EqualFold(n.Key, "Include") {
			out = append(out, n)
			continue
		}
		included, err := l.include(n)
		if err != nil {
			return nil, err
		}
		out = append(out, included...)
	}
	return out, nil
}

// include expands an Include option or block: a file, a directory (its
// files, recursively, in byte order of their names, names starting with a
// dot skipped) or a wildcard pattern, the block's Filter selecting files
// by base name.
func (l *loader) include(n *Node) ([]*Node, error) {
	if len(n.Values) != 1 {
		l.warn(n, ErrValue, "Include needs exactly one string argument (ignored, as collectd does)")
		return nil, nil
	}
	pattern, ok := n.Values[0].(string)
	if !ok {
		l.warn(n, ErrValue, "Include needs exactly one string argument (ignored, as collectd does)")
		return nil, nil
	}
	filter := ""
	for _, c := range n.Children {
		if !strings.EqualFold(c.Key, "Filter") {
			l.warn(c, ErrValue, "unknown Include option %s (ignored)", c.Key)
			continue
		}
		f, ok := oneString(c)
		if !ok {
			l.warn(c, ErrValue, "Filter needs exactly one string argument (ignored)")
			continue
		}
		if _, err := filepath.Match(f, ""); err != nil {
			l.warn(c, ErrValue, "Filter %q is not a valid pattern (ignored)", f)
			continue
		}
		filter = f
	}
	pattern = l.abs(pattern)
	paths := []string{pattern}
	if strings.ContainsAny(pattern, "*?[") {
		if m, err := filepath.Glob(pattern); err == nil && len(m) > 0 {
			paths = m
		}
	}
	var out []*Node
	for _, p := range paths {
		got, err := l.path(n, p, filter)
		if err != nil {
			return nil, err
		}
		out = append(out, got...)
	}
	return out, nil
}

func (l *loader) path(n *Node, p, filter string) ([]*Node, error) {
	fi, err := os.Stat(p)
	if err != nil {
		l.warn(n, ErrRead, "Include %s: %v (skipped, as collectd does)", p, errors.Unwrap(err))
		return nil, nil
	}
	if !fi.IsDir() {
		if filter != "" {
			if ok, _ := filepath.Match(filter, filepath.Base(p)); !ok {
				return nil, nil
			}
		}
		return l.file(p, n)
	}
	entries, err := os.ReadDir(p)
	if err != nil {
		return nil, errorAt(n, ErrRead, "%v", err)
	}
	var out []*Node
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") {
			continue
		}
		got, err := l.path(n, filepath.Join(p, e.Name()), filter)
		if err != nil {
			return nil, err
		}
		out = append(out, got...)
	}
	return out, nil
}

// oneString returns n's only value when it is a string.
func oneString(n *Node) (string, bool) {
	if len(n.Values) != 1 {
		return "", false
	}
	s, ok := n.Values[0].(string)
	return s, ok
}

// globalString is a global option's value as collectd sees it: numbers
// are formatted with %f (Hostname 12 is "12.000000").
func globalString(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case float64:
		return strconv.FormatFloat(v, 'f', 6, 64)
	case bool:
		return strconv.FormatBool(v)
	}
	return fmt.Sprint(v)
}

// isTrue is collectd's test of a global boolean: true, yes or on, in any
// case.
func isTrue(s string) bool {
	return strings.EqualFold(s, "true") || strings.EqualFold(s, "yes") || strings.EqualFold(s, "on")
}

// ignoredGlobals are collectd's global options that do not concern the
// python plugin.
var ignoredGlobals = []string{
	"BaseDir", "PIDFile", "PluginDir", "CollectInternalStats", "Timeout",
	"WriteThreads", "WriteQueueLimitHigh", "WriteQueueLimitLow",
	"PreCacheChain", "PostCacheChain",
}

// interpreter applies the top-level nodes to a Config.
type interpreter struct {
	cfg      *Config
	l        *loader
	autoLoad bool
	skipped  map[string]bool
}

func (in *interpreter) skip(name string) {
	if in.skipped == nil {
		in.skipped = map[string]bool{}
	}
	if !in.skipped[name] {
		in.skipped[name] = true
		in.cfg.Skipped = append(in.cfg.Skipped, name)
	}
}

func (in *interpreter) top(nodes []*Node) {
	loads := slices.ContainsFunc(nodes, func(n *Node) bool {
		name, ok := oneString(n)
		return ok && strings.EqualFold(n.Key, "LoadPlugin") && strings.EqualFold(name, "python")
	})
	for _, n := range nodes {
		key := n.Key
		switch {
		case strings.EqualFold(key, "LoadPlugin"):
			in.loadPlugin(n)
		case strings.EqualFold(key, "Plugin") && n.Block:
			name, ok := oneString(n)
			switch {
			case !ok:
				in.l.fail(n, ErrValue, "<Plugin> needs exactly one string argument, the plugin's name")
			case !strings.EqualFold(name, "python"):
				in.skip(name)
			case in.cfg.Python.Loaded || in.autoLoad || !loads:
				in.python(n)
			default:
				in.l.warn(n, ErrValue, "there is configuration for the python plugin before LoadPlugin python: ignored, as collectd does")
			}
		case n.Block && strings.EqualFold(key, "Chain"):
			// filter chains: not of the python plugin
		default:
			in.global(n)
		}
	}
	slices.Sort(in.cfg.Skipped)
}

func (in *interpreter) loadPlugin(n *Node) {
	name, ok := oneString(n)
	if !ok {
		in.l.fail(n, ErrValue, "LoadPlugin needs exactly one string argument, the plugin's name")
		return
	}
	if !strings.EqualFold(name, "python") {
		in.skip(name)
		return
	}
	py := &in.cfg.Python
	py.Loaded = true
	for _, c := range n.Children {
		switch {
		case strings.EqualFold(c.Key, "Globals"):
			if b, ok := in.boolean(c, "LoadPlugin"); ok {
				py.Globals = b
			}
		case strings.EqualFold(c.Key, "Interval"):
			if d, ok := in.seconds(c); ok {
				py.Interval = d
			}
		case strings.EqualFold(c.Key, "FlushInterval"), strings.EqualFold(c.Key, "FlushTimeout"):
		default:
			in.l.warn(c, ErrValue, "unknown LoadPlugin option %s for plugin python (ignored, as collectd does)", c.Key)
		}
	}
}

func (in *interpreter) global(n *Node) {
	key := n.Key
	switch {
	case strings.EqualFold(key, "TypesDB"):
		for _, v := range n.Values {
			in.cfg.TypesDB = append(in.cfg.TypesDB, in.l.abs(globalString(v)))
		}
		return
	case !in.known(key):
		in.l.warn(n, ErrValue, "unknown global option %s (ignored, as collectd does)", key)
		return
	}
	if len(n.Values) != 1 {
		in.l.fail(n, ErrValue, "global option %s needs exactly one argument", key)
		return
	}
	s := globalString(n.Values[0])
	switch {
	case strings.EqualFold(key, "Hostname"):
		in.cfg.Hostname = s
	case strings.EqualFold(key, "FQDNLookup"):
		in.cfg.FQDNLookup = isTrue(s)
	case strings.EqualFold(key, "AutoLoadPlugin"):
		in.autoLoad = isTrue(s)
	case strings.EqualFold(key, "Interval"):
		if d, ok := in.seconds(n); ok {
			in.cfg.Interval = d
		}
	case strings.EqualFold(key, "MaxReadInterval"):
		if d, ok := in.seconds(n); ok {
			in.cfg.MaxReadInterval = d
		}
	case strings.EqualFold(key, "ReadThreads"):
		f, err := strconv.ParseFloat(s, 64)
		if err != nil || f < 1 || f > 1<<20 {
			in.l.warn(n, ErrValue, "ReadThreads %v is not a positive number (ignored)", n.Values[0])
			return
		}
		in.cfg.ReadThreads = int(f)
	}
}

func (in *interpreter) known(key string) bool {
	for _, k := range append([]string{"Hostname", "FQDNLookup", "AutoLoadPlugin", "Interval", "MaxReadInterval", "ReadThreads"}, ignoredGlobals...) {
		if strings.EqualFold(k, key) {
			return true
		}
	}
	return false
}

// seconds reads a positive number of seconds from n's only value (a number
// or a string holding one); another value is ignored with a warning, as
// collectd keeps its default.
func (in *interpreter) seconds(n *Node) (time.Duration, bool) {
	if len(n.Values) != 1 {
		in.l.fail(n, ErrValue, "%s needs exactly one argument", n.Key)
		return 0, false
	}
	s := globalString(n.Values[0])
	f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil || !(f > 0) || f > math.MaxInt64/float64(time.Second) {
		in.l.warn(n, ErrValue, "%s %v is not a positive number of seconds (ignored, the default applies)", n.Key, n.Values[0])
		return 0, false
	}
	return time.Duration(f * float64(time.Second)), true
}

// boolean reads a boolean option: an unquoted boolean, or (deprecated, as
// collectd warns) the string "true" or "false".
func (in *interpreter) boolean(n *Node, where string) (bool, bool) {
	if len(n.Values) == 1 {
		switch v := n.Values[0].(type) {
		case bool:
			return v, true
		case string:
			if strings.EqualFold(v, "true") || strings.EqualFold(v, "false") {
				in.l.warn(n, ErrValue, "using string value %q for boolean option %s is deprecated (collectd warns too); use unquoted true or false", v, n.Key)
				return strings.EqualFold(v, "true"), true
			}
		}
	}
	in.l.fail(n, ErrValue, "%s option %s needs one boolean argument (true or false)", where, n.Key)
	return false, false
}

// python reads a <Plugin python> block.
func (in *interpreter) python(block *Node) {
	py := &in.cfg.Python
	for _, n := range block.Children {
		key := n.Key
		switch {
		case strings.EqualFold(key, "ModulePath"):
			p, ok := oneString(n)
			if !ok {
				in.l.fail(n, ErrValue, "python plugin: ModulePath needs exactly one string argument")
				continue
			}
			py.Items = append(py.Items, Item{Kind: ItemModulePath, Path: in.l.abs(p)})
		case strings.EqualFold(key, "Import"):
			m, ok := oneString(n)
			if !ok {
				in.l.fail(n, ErrValue, "python plugin: Import needs exactly one string argument")
				continue
			}
			py.Items = append(py.Items, Item{Kind: ItemImport, Module: m})
		case strings.EqualFold(key, "Module"):
			name, ok := oneString(n)
			if !ok {
				in.l.fail(n, ErrValue, "python plugin: Module needs exactly one string argument")
				continue
			}
			cfg := &Node{Key: n.Key, Values: n.Values, Children: n.Children, Block: true, File: n.File, Line: n.Line}
			py.Items = append(py.Items, Item{Kind: ItemModule, Name: name, Config: cfg})
		case strings.EqualFold(key, "LogTraces"):
			if b, ok := in.boolean(n, "python plugin"); ok {
				py.LogTraces = b
			}
		case strings.EqualFold(key, "Interactive"):
			if b, ok := in.boolean(n, "python plugin"); ok {
				py.Interactive = b
			}
		case strings.EqualFold(key, "Encoding"):
			e, ok := oneString(n)
			if !ok {
				in.l.fail(n, ErrValue, "python plugin: Encoding needs exactly one string argument")
				continue
			}
			py.Encoding = e
			in.l.warn(n, ErrValue, "\"Encoding\" was used in the config file but Python3 was used, which does not support changing encodings (ignored; collectd refuses to start)")
		default:
			in.l.fail(n, ErrValue, "python plugin: unknown config key %q", key)
		}
	}
}
