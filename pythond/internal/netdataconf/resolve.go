package netdataconf

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"unicode"
)

// Options says where modules and their configuration are. The zero value
// finds nothing; set at least ModuleDirs.
type Options struct {
	// ModuleDirs are searched for <name>.chart.py files. For a name found in
	// several dirs, the first dir wins. A dir that does not exist is skipped.
	ModuleDirs []string
	// ConfDir, when set, is where <name>.conf and python.d.conf are looked up
	// before the module dirs.
	ConfDir string
	// Modules, when not empty, limits the run to these module names. A name
	// that matches no file is an [ErrUnknownModule] error. python.d.conf can
	// still disable a listed module, as with python.d.plugin's arguments.
	Modules []string
	// UpdateEveryMin is the minimum update_every of every job; zero or
	// negative means 1.
	UpdateEveryMin int
	// UpdateEvery is the plugin's base update_every (NETDATA_UPDATE_EVERY),
	// used when nothing else sets it; zero or negative means 1.
	UpdateEvery int
}

// Names of the plugin configuration file and of a module's files.
const (
	PluginConfName = "python.d.conf"
	ModuleSuffix   = ".chart.py"
	ConfSuffix     = ".conf"
)

// Resolve discovers the modules, reads python.d.conf and each module's conf
// file, and returns the jobs file.
//
// Problems that concern one module (its conf file does not parse, a job has
// a bad update_every, ...) drop that module or job and are returned joined
// in the error, each an [*Error]; the file still holds every other module.
// A python.d.conf that does not parse is skipped with an error (the other
// python.d.conf files still apply). Only a module dir that cannot be read
// returns a nil file.
func Resolve(opts Options) (*JobsFile, error) {
	minEvery := max(opts.UpdateEveryMin, 1)
	baseEvery := max(opts.UpdateEvery, 1)

	found, skipped, err := discover(opts.ModuleDirs)
	if err != nil {
		return nil, err
	}
	pc, errs := readPluginConf(opts)
	errs = append(skipped, errs...)

	out := &JobsFile{UpdateEveryMin: minEvery, Modules: []Module{}}

	names := make([]string, 0, len(found))
	if len(opts.Modules) > 0 {
		seen := map[string]bool{}
		for _, n := range opts.Modules {
			if seen[n] {
				continue
			}
			seen[n] = true
			if _, ok := found[n]; !ok {
				errs = append(errs, &Error{Module: n, Err: fmt.Errorf("%w: no %s%s in %s", ErrUnknownModule, n, ModuleSuffix, strings.Join(opts.ModuleDirs, ", "))})
				continue
			}
			names = append(names, n)
		}
	} else {
		for n := range found {
			names = append(names, n)
		}
	}
	sort.Strings(names)

	if !pc.enabled {
		out.Disabled = names
		return out, errors.Join(errs...)
	}
	for _, name := range names {
		run, explicit := pc.moduleEnabled(name)
		if !run {
			out.Disabled = append(out.Disabled, name)
			continue
		}
		m := Module{Name: name, Path: found[name], EnabledExplicitly: explicit}
		jobs, confPath, jerrs := moduleJobs(name, filepath.Dir(found[name]), opts.ConfDir, baseEvery, minEvery)
		errs = append(errs, jerrs...)
		if jobs == nil {
			continue // the conf file was unusable: python.d.plugin drops the module
		}
		m.ConfPath, m.Jobs = confPath, jobs
		out.Modules = append(out.Modules, m)
	}
	return out, errors.Join(errs...)
}

// discover maps module names to absolute paths; earlier dirs win. A module
// file that is a symbolic link leading out of its dir is skipped, with an
// ErrOutside error in skipped.
func discover(dirs []string) (found map[string]string, skipped []error, err error) {
	found = map[string]string{}
	for _, dir := range dirs {
		entries, err := os.ReadDir(dir)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, nil, &Error{File: dir, Err: fmt.Errorf("%w: %w", ErrRead, err)}
		}
		abs, err := filepath.Abs(dir)
		if err != nil {
			return nil, nil, &Error{File: dir, Err: fmt.Errorf("%w: %w", ErrRead, err)}
		}
		realDir, err := filepath.EvalSymlinks(abs)
		if err != nil {
			return nil, nil, &Error{File: dir, Err: fmt.Errorf("%w: %w", ErrRead, err)}
		}
		for _, e := range entries {
			n := e.Name()
			if !strings.HasSuffix(n, ModuleSuffix) || len(n) == len(ModuleSuffix) || e.IsDir() {
				continue
			}
			name := strings.TrimSuffix(n, ModuleSuffix)
			if e.Type()&fs.ModeSymlink != 0 {
				real, err := filepath.EvalSymlinks(filepath.Join(abs, n))
				rel, relErr := filepath.Rel(realDir, real)
				if err != nil || relErr != nil || !filepath.IsLocal(rel) {
					skipped = append(skipped, &Error{File: filepath.Join(abs, n), Module: name, Err: fmt.Errorf("%w: a symbolic link to %s, outside %s", ErrOutside, real, realDir)})
					continue
				}
			}
			if _, ok := found[name]; !ok {
				found[name] = filepath.Join(abs, n)
			}
		}
	}
	return found, skipped, nil
}

// pluginConf is python.d.conf, merged key by key over all files found (the
// first file to set a key wins), as python.d.plugin merges the user file over
// the stock one.
type pluginConf struct {
	enabled    bool
	defaultRun bool
	modules    map[string]Value
}

func (pc pluginConf) moduleEnabled(name string) (run, explicit bool) {
	v, ok := pc.modules[name]
	if !ok {
		return pc.defaultRun, false
	}
	t := truthy(v)
	return t, t
}

// readPluginConf reads every python.d.conf found. A file that cannot be read
// or parsed is skipped with an error, as python.d.plugin skips a broken user
// file and goes on with the stock one.
func readPluginConf(opts Options) (pluginConf, []error) {
	pc := pluginConf{enabled: true, defaultRun: true, modules: map[string]Value{}}
	var dirs []string
	if opts.ConfDir != "" {
		dirs = append(dirs, opts.ConfDir)
	}
	dirs = append(dirs, opts.ModuleDirs...)
	set := map[string]bool{}
	var errs []error
	for _, dir := range dirs {
		path := filepath.Join(dir, PluginConfName)
		data, err := os.ReadFile(path)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			errs = append(errs, &Error{File: path, Err: fmt.Errorf("%w: %w", ErrRead, err)})
			continue
		}
		v, line, err := decodeYAML(path, data)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if v == nil {
			continue
		}
		m, ok := v.(Map)
		if !ok {
			errs = append(errs, &Error{File: path, Line: line, Err: fmt.Errorf("%w: python.d.conf must be a mapping of keys to values", ErrNotMapping)})
			continue
		}
		for _, e := range m {
			if set[e.Key] {
				continue
			}
			set[e.Key] = true
			switch e.Key {
			case "enabled":
				pc.enabled = truthy(e.Value)
			case "default_run":
				pc.defaultRun = truthy(e.Value)
			case "gc_run", "gc_interval":
				// Accepted: the Python side has nothing to collect.
			default:
				pc.modules[e.Key] = e.Value
			}
		}
	}
	return pc, errs
}

// truthy is Python's bool() of a loaded YAML value.
func truthy(v Value) bool {
	switch x := v.(type) {
	case nil:
		return false
	case bool:
		return x
	case Number:
		s := strings.TrimLeft(string(x), "-+")
		return strings.Trim(s, "0.") != "" || strings.ContainsAny(s, "IN")
	case string:
		return x != ""
	case Map:
		return len(x) > 0
	case []any:
		return len(x) > 0
	}
	return true
}

// moduleJobs reads the module's conf file (conf dir first, then beside the
// module; the first found wins) and builds its jobs. A nil slice means the
// module is dropped.
func moduleJobs(name, moduleDir, confDir string, baseEvery, minEvery int) ([]Job, string, []error) {
	var candidates []string
	if confDir != "" {
		candidates = append(candidates, filepath.Join(confDir, name+ConfSuffix))
	}
	candidates = append(candidates, filepath.Join(moduleDir, name+ConfSuffix))
	for _, path := range candidates {
		data, err := os.ReadFile(path)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, path, []error{&Error{File: path, Module: name, Err: fmt.Errorf("%w: %w", ErrRead, err)}}
		}
		v, line, err := decodeYAML(path, data)
		if err != nil {
			var e *Error
			if errors.As(err, &e) {
				e.Module = name
			}
			return nil, path, []error{err}
		}
		jobs, errs := buildJobs(name, path, v, line, baseEvery, minEvery)
		return jobs, path, errs
	}
	jobs, errs := buildJobs(name, "", nil, 0, baseEvery, minEvery)
	return jobs, "", errs
}

// buildJobs applies §"job config" of python.d.plugin: a document whose
// top-level values include mappings is multi-job (each mapping is a job and
// only the five default keys are inherited from top-level scalars); any other
// mapping is the single job named after the module.
func buildJobs(module, file string, doc Value, docLine, baseEvery, minEvery int) ([]Job, []error) {
	var top Map
	switch d := doc.(type) {
	case nil:
	case Map:
		top = d
	default:
		return nil, []error{&Error{File: file, Line: docLine, Module: module, Err: fmt.Errorf("%w: a module conf file must be a mapping (jobs, or one job's keys)", ErrNotMapping)}}
	}

	multi := false
	for _, e := range top {
		if _, ok := e.Value.(Map); ok {
			multi = true
			break
		}
	}

	var errs []error
	if !multi {
		j, err := makeJob(module, file, module, docLine, top, nil, baseEvery, minEvery)
		if err != nil {
			return nil, []error{err}
		}
		return []Job{j}, nil
	}

	var inherited Map
	for _, e := range top {
		if _, ok := e.Value.(Map); !ok && isDefaultKey(e.Key) {
			inherited = append(inherited, e)
		}
	}
	jobs := []Job{}
	for _, e := range top {
		m, ok := e.Value.(Map)
		if !ok {
			continue
		}
		j, err := makeJob(module, file, e.Key, e.Line, m, inherited, baseEvery, minEvery)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		jobs = append(jobs, j)
	}
	return jobs, errs
}

func isDefaultKey(k string) bool {
	for _, d := range defaultKeys {
		if d == k {
			return true
		}
	}
	return false
}

func makeJob(module, file, jobName string, line int, keys, inherited Map, baseEvery, minEvery int) (Job, error) {
	j := Job{
		JobName:            underscoreSpaces(jobName),
		UpdateEvery:        baseEvery,
		Priority:           DefaultPriority,
		AutodetectionRetry: DefaultAutodetectionRetry,
		ChartCleanup:       DefaultChartCleanup,
		Penalty:            DefaultPenalty,
		Explicit:           []string{},
		Config:             keys.without("name"),
		Line:               line,
	}
	if v, ok := keys.Get("name"); ok && v != nil {
		j.OverrideName = underscoreSpaces(scalarText(v))
	}
	for _, k := range defaultKeys {
		e, ok := lookup(keys, k)
		if !ok {
			e, ok = lookup(inherited, k)
		}
		if !ok {
			continue
		}
		bad := func(want string) error {
			return &Error{File: file, Line: e.Line, Module: module, Key: k,
				Err: fmt.Errorf("%w: job %q: want %s, got %s", ErrBadValue, j.JobName, want, describe(e.Value))}
		}
		if k == KeyPenalty {
			switch v := e.Value.(type) {
			case bool:
				j.Penalty = v
			case Number:
				j.Penalty = truthy(v)
			default:
				return Job{}, bad("a boolean")
			}
		} else {
			n, ok := e.Value.(Number)
			if !ok {
				return Job{}, bad("an integer")
			}
			i, ok := n.Int()
			if !ok || int64(int(i)) != i {
				return Job{}, bad("an integer")
			}
			switch k {
			case KeyUpdateEvery:
				j.UpdateEvery = int(i)
			case KeyPriority:
				j.Priority = int(i)
			case KeyAutodetectionRetry:
				j.AutodetectionRetry = int(i)
			case KeyChartCleanup:
				j.ChartCleanup = int(i)
			}
		}
		j.Explicit = append(j.Explicit, k)
	}
	j.UpdateEvery = max(j.UpdateEvery, minEvery)
	return j, nil
}

func lookup(m Map, key string) (Entry, bool) {
	if i := m.index(key); i >= 0 {
		return m[i], true
	}
	return Entry{}, false
}

func describe(v Value) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case bool:
		return fmt.Sprintf("boolean %v", x)
	case Number:
		return "number " + string(x)
	case string:
		return fmt.Sprintf("string %q", x)
	case Map:
		return "a mapping"
	case []any:
		return "a list"
	}
	return fmt.Sprintf("%T", v)
}

// scalarText is Python's str() of a scalar, for names.
func scalarText(v Value) string {
	switch x := v.(type) {
	case string:
		return x
	case bool:
		if x {
			return "True"
		}
		return "False"
	case Number:
		return string(x)
	}
	return fmt.Sprint(v)
}

// underscoreSpaces replaces each run of whitespace with one "_", like
// re.sub(r'\s+', '_', s) in Python.
func underscoreSpaces(s string) string {
	var b strings.Builder
	space := false
	for _, r := range s {
		if unicode.IsSpace(r) || (r >= 0x1c && r <= 0x1f) {
			if !space {
				b.WriteByte('_')
			}
			space = true
			continue
		}
		space = false
		b.WriteRune(r)
	}
	return b.String()
}
