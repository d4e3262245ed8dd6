package main

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/pelletier/go-toml/v2"
)

// configSet is a configuration as loaded from its files.
type configSet struct {
	cfg Config
	// baseDir is what relative paths of the configuration are relative
	// to: the -config file's directory, else DataKit's install directory
	// (when -config-dir is <install>/conf.d), else the -config-dir.
	baseDir string
	// installDir is set when -config-dir has DataKit's layout.
	installDir string
	// files are the files read, in the order they were merged.
	files []string
	// notes are what was skipped (DataKit inputs this agent does not
	// have), to be logged.
	notes []string
}

// supportedInputs are the [[inputs.*]] kinds the agent runs.
var supportedInputs = []string{"pythond", "prom"}

// loadConfigSet reads the -config file (or the embedded default, written
// as defaultText, when neither path nor dir is given), every *.conf and
// *.toml under dir, and in git-repo mode the repository's conf.d, expands
// environment variables in each, merges them and validates the result.
// Every problem found is in the error.
func loadConfigSet(path, dir string, defaultText []byte, defaultBase string, lookup func(string) (string, bool)) (*configSet, error) {
	cs := &configSet{}
	var docs []confDoc
	var errs []error
	switch {
	case path != "":
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("reading configuration: %w", err)
		}
		abs, err := filepath.Abs(filepath.Dir(path))
		if err != nil {
			return nil, err
		}
		cs.baseDir = abs
		d, err := readConfDoc(path, data, lookup, false)
		if err != nil {
			errs = append(errs, err)
		} else {
			docs = append(docs, d)
		}
	case dir == "":
		d, err := readConfDoc("default.toml (embedded)", defaultText, lookup, false)
		if err != nil {
			return nil, err
		}
		docs = append(docs, d)
		cs.baseDir = defaultBase
	}
	if dir != "" {
		abs, err := filepath.Abs(dir)
		if err != nil {
			return nil, err
		}
		if filepath.Base(abs) == "conf.d" {
			cs.installDir = filepath.Dir(abs)
		}
		if cs.baseDir == "" {
			cs.baseDir = abs
			if cs.installDir != "" {
				cs.baseDir = cs.installDir
			}
		}
		ds, notes, err := readConfDir(abs, cs.installDir != "", lookup)
		errs = append(errs, err)
		docs = append(docs, ds...)
		cs.notes = append(cs.notes, notes...)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	merged, err := mergeDocs(docs)
	if err != nil {
		return nil, err
	}
	// Git-repo mode: the repository's conf.d is part of the configuration,
	// as DataKit loads it.
	if repo, ok := merged.tree["git_repo"].(string); ok && repo != "" {
		reposDir, _ := merged.tree["gitrepos_dir"].(string)
		if reposDir == "" && cs.installDir != "" {
			reposDir = filepath.Join(cs.installDir, "gitrepos")
		}
		if reposDir != "" {
			confd := filepath.Join(resolve(cs.baseDir, reposDir), repo, "conf.d")
			if _, err := os.Stat(confd); err == nil {
				ds, notes, err := readConfDir(confd, true, lookup)
				if err != nil {
					return nil, err
				}
				cs.notes = append(cs.notes, notes...)
				if merged, err = mergeDocs(append(docs, ds...)); err != nil {
					return nil, err
				}
				docs = append(docs, ds...)
			}
		}
	}
	for _, d := range docs {
		cs.files = append(cs.files, d.name)
	}
	name, text := "configuration", []byte(nil)
	if len(docs) == 1 {
		name, text = docs[0].name, docs[0].data
	} else {
		var buf bytes.Buffer
		if err := toml.NewEncoder(&buf).Encode(merged.tree); err != nil {
			return nil, fmt.Errorf("merging the configuration files: %w", err)
		}
		text = buf.Bytes()
	}
	cfg, err := parseConfig(name, text)
	if err != nil {
		return nil, err
	}
	cs.cfg = cfg
	if cs.installDir != "" {
		// DataKit's layout: python.d and gitrepos beside conf.d.
		if cs.cfg.PythondDir == "" {
			cs.cfg.PythondDir = filepath.Join(cs.installDir, "python.d")
		}
		if cs.cfg.GitReposDir == "" && cs.cfg.GitRepo != "" {
			cs.cfg.GitReposDir = filepath.Join(cs.installDir, "gitrepos")
		}
	}
	if cs.cfg.GitRepo != "" && cs.cfg.GitReposDir == "" {
		return nil, fmt.Errorf("%s: git_repo: needs gitrepos_dir (the directory holding the repository %q)", name, cs.cfg.GitRepo)
	}
	return cs, nil
}

// confDoc is one configuration file, decoded as a tree.
type confDoc struct {
	name string
	tree map[string]any
	data []byte // expanded text
}

// readConfDoc expands, decodes and strictly checks one file. In a conf.d
// file (confD) an input kind the agent does not have is dropped with a
// note instead of being an error, so that a DataKit conf.d can be used
// whole.
func readConfDoc(name string, data []byte, lookup func(string) (string, bool), confD bool) (confDoc, error) {
	data, err := expandEnv(name, data, lookup)
	if err != nil {
		return confDoc{}, err
	}
	var tree map[string]any
	if err := toml.Unmarshal(data, &tree); err != nil {
		var de *toml.DecodeError
		if errors.As(err, &de) {
			row, col := de.Position()
			return confDoc{}, fmt.Errorf("%s:%d:%d: %v", name, row, col, de)
		}
		return confDoc{}, fmt.Errorf("%s: %w", name, err)
	}
	if tree == nil {
		tree = map[string]any{}
	}
	if confD {
		if ins, ok := tree["inputs"].(map[string]any); ok {
			dropped := false
			for k := range ins {
				if !slices.Contains(supportedInputs, k) {
					delete(ins, k)
					dropped = true
				}
			}
			// Re-encoded only when needed: error lines then stop matching
			// the file.
			if dropped {
				if data, err = toml.Marshal(tree); err != nil {
					return confDoc{}, fmt.Errorf("%s: %w", name, err)
				}
			}
		}
	}
	// Decoding into Config catches unknown keys and wrong types with this
	// file's name (and, outside conf.d, its lines).
	if err := decodeConfig(name, data, &Config{}); err != nil {
		return confDoc{}, err
	}
	return confDoc{name: name, tree: tree, data: data}, nil
}

// skippedInputs lists the input kinds of a conf.d file the agent does not
// run.
func skippedInputs(data []byte) []string {
	var tree struct {
		Inputs map[string]any `toml:"inputs"`
	}
	if toml.Unmarshal(data, &tree) != nil {
		return nil
	}
	var kinds []string
	for k := range tree.Inputs {
		if !slices.Contains(supportedInputs, k) {
			kinds = append(kinds, k)
		}
	}
	sort.Strings(kinds)
	return kinds
}

// readConfDir reads every *.conf and *.toml file under dir, in lexical
// order of their paths. With datakit set (DataKit's conf.d), DataKit's
// own datakit.conf at the top is skipped: it configures DataKit, not
// inputs.
func readConfDir(dir string, datakit bool, lookup func(string) (string, bool)) ([]confDoc, []string, error) {
	var docs []confDoc
	var notes []string
	var errs []error
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			errs = append(errs, err)
			return nil
		}
		if d.IsDir() || !(strings.HasSuffix(p, ".conf") || strings.HasSuffix(p, ".toml")) {
			return nil
		}
		if datakit && filepath.Dir(p) == dir && d.Name() == "datakit.conf" {
			notes = append(notes, p+": DataKit's own configuration, not read")
			return nil
		}
		data, err := os.ReadFile(p)
		if err != nil {
			errs = append(errs, err)
			return nil
		}
		for _, k := range skippedInputs(data) {
			notes = append(notes, fmt.Sprintf("%s: [[inputs.%s]] is not an input this agent runs; skipped", p, k))
		}
		doc, err := readConfDoc(p, data, lookup, true)
		if err != nil {
			errs = append(errs, err)
			return nil
		}
		docs = append(docs, doc)
		return nil
	})
	if err != nil {
		errs = append(errs, err)
	}
	return docs, notes, errors.Join(errs...)
}

// mergeDocs merges the files: [[inputs.*]] tables are appended in file
// order; any other key set in two files is an error naming both.
func mergeDocs(docs []confDoc) (confDoc, error) {
	out := confDoc{tree: map[string]any{}}
	origin := map[string]string{} // key path -> file that set it
	var errs []error
	var merge func(prefix string, dst, src map[string]any, file string)
	merge = func(prefix string, dst, src map[string]any, file string) {
		for _, k := range slices.Sorted(maps.Keys(src)) {
			v := src[k]
			key := prefix + k
			if key == "inputs" {
				in, _ := v.(map[string]any)
				have, _ := dst[k].(map[string]any)
				if have == nil {
					have = map[string]any{}
					dst[k] = have
				}
				for kind, list := range in {
					l, ok := list.([]any)
					if !ok {
						errs = append(errs, fmt.Errorf("%s: inputs.%s: want [[inputs.%s]] tables", file, kind, kind))
						continue
					}
					prev, _ := have[kind].([]any)
					have[kind] = append(prev, l...)
				}
				continue
			}
			if sub, ok := v.(map[string]any); ok {
				have, exists := dst[k]
				if !exists {
					have = map[string]any{}
					dst[k] = have
				}
				if hm, ok := have.(map[string]any); ok {
					merge(key+".", hm, sub, file)
					continue
				}
			}
			if first, dup := origin[key]; dup {
				errs = append(errs, fmt.Errorf("%s is set in %s and again in %s", key, first, file))
				continue
			}
			origin[key] = file
			dst[k] = v
		}
	}
	for _, d := range docs {
		merge("", out.tree, d.tree, d.name)
	}
	return out, errors.Join(errs...)
}
