package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"

	"github.com/collectkit/collectkit/collectd"
	"github.com/collectkit/collectkit/point"
)

// checkConfig is -check-config: it builds every input strictly (pythond
// directories and interpreters must exist, files named by the
// configuration must be readable), prints what would run, and returns
// every problem joined (nil when there is none). The sink is not
// contacted.
func checkConfig(cs *configSet, w io.Writer) error {
	cfg := &cs.cfg
	fmt.Fprintf(w, "configuration: %s\n", strings.Join(cs.files, ", "))
	if cs.installDir != "" {
		fmt.Fprintf(w, "DataKit layout: install directory %s\n", cs.installDir)
	}
	for _, n := range cs.notes {
		fmt.Fprintf(w, "note: %s\n", n)
	}
	sink := cfg.Sink.Kind
	if sink == "" {
		sink = "stdout"
	}
	fmt.Fprintf(w, "listen %s, sink %s\n", cfg.Listen, sink)
	env := &inputEnv{
		baseDir:    cs.baseDir,
		globalTags: cfg.GlobalTags,
		sink:       point.Discard(),
		logger:     slog.New(slog.DiscardHandler),
		strict:     true,
	}
	var errs []error
	specs := inputSpecs(cs)
	for _, s := range specs {
		switch s.kind {
		case "pythond":
			errs = append(errs, describePythond(w, s))
			if _, err := env.buildInput(s); err != nil {
				errs = append(errs, err)
			}
		case "prom":
			fmt.Fprintf(w, "%s: every %s, urls %s\n", s.label(), durationOr(s.prom.Interval, "30s"), strings.Join(s.prom.URLs, " "))
			if _, err := env.buildInput(s); err != nil {
				errs = append(errs, err)
			}
		case "collectd_network":
			fmt.Fprintf(w, "collectd_network: listen udp %s\n", s.collectd.listen())
			errs = append(errs, checkCollectd(s.collectd, cs.baseDir))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("configuration check failed:\n%w", err)
	}
	fmt.Fprintf(w, "configuration OK: %d inputs\n", len(specs))
	return nil
}

// describePythond prints a pythond input: framework, interpreter, and
// each directory with the collector files found in it. A directory that
// exists but holds no collector is an error (one DataKit also gives up
// on); pythond reports the missing ones.
func describePythond(w io.Writer, s inputSpec) error {
	var errs []error
	in := s.pythond.Input
	framework := in.Framework.String()
	if framework == "" {
		framework = "datakit"
	}
	cmd := in.Cmd
	if cmd == "" {
		cmd = "python3"
	}
	if p, err := exec.LookPath(cmd); err == nil {
		cmd = p
	} else {
		cmd += " (not found)"
	}
	fmt.Fprintf(w, "%s: framework %s, cmd %s\n", s.label(), framework, cmd)
	for i, d := range in.Dirs {
		dir := findPythondDir(s.pythond, d)
		files := collectorFiles(dir)
		switch {
		case files == nil:
			fmt.Fprintf(w, "  dir %s: missing or unreadable\n", dir)
		case len(files) == 0:
			fmt.Fprintf(w, "  dir %s: no collector (.py) files\n", dir)
			if framework != "netdata-plugin" {
				errs = append(errs, fmt.Errorf("inputs.pythond[%d].dirs[%d]: %s holds no collector (.py file)", s.index, i, dir))
			}
		default:
			fmt.Fprintf(w, "  dir %s: %s\n", dir, strings.Join(files, " "))
		}
	}
	return errors.Join(errs...)
}

// findPythondDir resolves dir the way pythond does for display: absolute
// as written, else the git repository's python.d first, then the root.
func findPythondDir(s *pythondSpec, dir string) string {
	if filepath.IsAbs(dir) {
		return dir
	}
	var bases []string
	if s.GitRepos != "" {
		if s.GitRepo != "" {
			bases = append(bases, filepath.Join(s.GitRepos, s.GitRepo, "python.d"))
		} else if entries, err := os.ReadDir(s.GitRepos); err == nil {
			for _, e := range entries {
				if e.IsDir() && !strings.HasPrefix(e.Name(), ".") {
					bases = append(bases, filepath.Join(s.GitRepos, e.Name(), "python.d"))
				}
			}
		}
	}
	for _, b := range bases {
		if _, err := os.Stat(filepath.Join(b, dir)); err == nil {
			return filepath.Join(b, dir)
		}
	}
	return filepath.Join(s.Root, dir)
}

// collectorFiles lists the .py files of a dir (or the file itself) at most
// two levels deep, without __init__.py, as DataKit loads them; nil when
// the dir cannot be read.
func collectorFiles(dir string) []string {
	st, err := os.Stat(dir)
	if err != nil {
		return nil
	}
	if !st.IsDir() {
		return []string{filepath.Base(dir)}
	}
	files := []string{}
	_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		rel, _ := filepath.Rel(dir, p)
		if d.IsDir() {
			if strings.Count(rel, string(filepath.Separator)) >= 1 {
				return filepath.SkipDir
			}
			return nil
		}
		if strings.HasSuffix(p, ".py") && d.Name() != "__init__.py" {
			files = append(files, rel)
		}
		return nil
	})
	slices.Sort(files)
	return files
}

// checkCollectd loads what [collectd_network] names without binding its
// port.
func checkCollectd(c *CollectdNetworkConfig, baseDir string) error {
	var errs []error
	files := c.TypesDB
	if len(files) == 0 {
		files = []string{collectd.DefaultTypesDB}
	}
	for i := range files {
		if _, err := collectd.LoadTypesDB(resolve(baseDir, files[i])); err != nil {
			errs = append(errs, fmt.Errorf("collectd_network.types_db: %w", err))
		}
	}
	if c.AuthFile != "" {
		if err := collectd.NewAuthFile(resolve(baseDir, c.AuthFile)).Load(); err != nil {
			errs = append(errs, fmt.Errorf("collectd_network.auth_file: %w", err))
		}
	}
	return errors.Join(errs...)
}

func durationOr[D ~int64](d D, def string) string {
	if d == 0 {
		return def
	}
	return fmt.Sprint(any(d))
}
