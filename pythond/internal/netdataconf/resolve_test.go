package netdataconf

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// tree writes files (path relative to a temp dir → content) and returns the dir.
func tree(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for p, c := range files {
		full := filepath.Join(dir, p)
		require.NoError(t, os.MkdirAll(filepath.Dir(full), 0o755))
		require.NoError(t, os.WriteFile(full, []byte(c), 0o644))
	}
	return dir
}

// jobJSON gives the JSON of a job's written fields, for compact expectations.
func jobJSON(t *testing.T, j Job) string {
	t.Helper()
	b, err := json.Marshal(j)
	require.NoError(t, err)
	return string(b)
}

func TestResolveJobs(t *testing.T) {
	tests := []struct {
		name string
		conf string // mods/m.conf; "-" for no file
		opts Options
		want []string // JSON of each job
	}{
		{
			name: "no conf file gives one default job",
			conf: "-",
			want: []string{`{"job_name":"m","override_name":"","update_every":1,"priority":60000,"autodetection_retry":0,"chart_cleanup":10,"penalty":true,"explicit":[],"config":{}}`},
		},
		{
			name: "empty file is like no file",
			conf: "# only a comment\n",
			want: []string{`{"job_name":"m","override_name":"","update_every":1,"priority":60000,"autodetection_retry":0,"chart_cleanup":10,"penalty":true,"explicit":[],"config":{}}`},
		},
		{
			name: "single job form",
			conf: "url: http://127.0.0.1/x\nupdate_every: 5\nname: my  local\tone\nretries: 60\n",
			want: []string{`{"job_name":"m","override_name":"my_local_one","update_every":5,"priority":60000,"autodetection_retry":0,"chart_cleanup":10,"penalty":true,"explicit":["update_every"],"config":{"url":"http://127.0.0.1/x","update_every":5,"retries":60}}`},
		},
		{
			name: "multi job inherits only the five default keys, in file order",
			conf: "update_every: 3\npenalty: no\nurl: http://top\nretries: 10\n" +
				"zeta:\n  name: \"Two Lines\"\n  num_lines: 2\n" +
				"alpha job:\n  update_every: 2\n  priority: 70000\n  chart_cleanup: 0\n",
			want: []string{
				`{"job_name":"zeta","override_name":"Two_Lines","update_every":3,"priority":60000,"autodetection_retry":0,"chart_cleanup":10,"penalty":false,"explicit":["update_every","penalty"],"config":{"num_lines":2}}`,
				`{"job_name":"alpha_job","override_name":"","update_every":2,"priority":70000,"autodetection_retry":0,"chart_cleanup":0,"penalty":false,"explicit":["update_every","priority","chart_cleanup","penalty"],"config":{"update_every":2,"priority":70000,"chart_cleanup":0}}`,
			},
		},
		{
			name: "update_every raised to the minimum, base from options",
			conf: "a:\n  update_every: 1\nb:\n  x: 1\n",
			opts: Options{UpdateEveryMin: 2, UpdateEvery: 1},
			want: []string{
				`{"job_name":"a","override_name":"","update_every":2,"priority":60000,"autodetection_retry":0,"chart_cleanup":10,"penalty":true,"explicit":["update_every"],"config":{"update_every":1}}`,
				`{"job_name":"b","override_name":"","update_every":2,"priority":60000,"autodetection_retry":0,"chart_cleanup":10,"penalty":true,"explicit":[],"config":{"x":1}}`,
			},
		},
		{
			name: "plugin base update_every",
			conf: "-",
			opts: Options{UpdateEvery: 4},
			want: []string{`{"job_name":"m","override_name":"","update_every":4,"priority":60000,"autodetection_retry":0,"chart_cleanup":10,"penalty":true,"explicit":[],"config":{}}`},
		},
		{
			name: "YAML 1.1 scalars as PyYAML reads them",
			conf: "a:\n  b1: yes\n  b2: Off\n  o: 010\n  h: 0x1F\n  s: 1:30\n  f: 1.5\n  e: 1e3\n  f2: 1.0e+3\n  n: ~\n  q: 'yes'\n  big: 123456789012345678901234\n  inf: -.inf\n  l: [1, two]\n  d: 2002-12-14\n  u: 1_000\n  z: 08\n  bb: 0b101\n  sf: 1:30.5\n",
			want: []string{`{"job_name":"a","override_name":"","update_every":1,"priority":60000,"autodetection_retry":0,"chart_cleanup":10,"penalty":true,"explicit":[],"config":{"b1":true,"b2":false,"o":8,"h":31,"s":90,"f":1.5,"e":"1e3","f2":1000.0,"n":null,"q":"yes","big":123456789012345678901234,"inf":-1e999,"l":[1,"two"],"d":"2002-12-14","u":1000,"z":"08","bb":5,"sf":90.5}}`},
		},
		{
			name: "duplicate job keeps its first place and last value; anchors and merge keys",
			conf: "base: &b\n  host: h1\n  port: 1\none:\n  <<: *b\n  port: 2\nbase:\n  host: h2\n",
			want: []string{
				`{"job_name":"base","override_name":"","update_every":1,"priority":60000,"autodetection_retry":0,"chart_cleanup":10,"penalty":true,"explicit":[],"config":{"host":"h2"}}`,
				`{"job_name":"one","override_name":"","update_every":1,"priority":60000,"autodetection_retry":0,"chart_cleanup":10,"penalty":true,"explicit":[],"config":{"host":"h1","port":2}}`,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			files := map[string]string{"mods/m.chart.py": ""}
			if tt.conf != "-" {
				files["mods/m.conf"] = tt.conf
			}
			dir := tree(t, files)
			opts := tt.opts
			opts.ModuleDirs = []string{filepath.Join(dir, "mods")}
			f, err := Resolve(opts)
			require.NoError(t, err)
			require.Len(t, f.Modules, 1)
			var got []string
			for _, j := range f.Modules[0].Jobs {
				got = append(got, jobJSON(t, j))
			}
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestResolveDiscoveryAndPluginConf(t *testing.T) {
	tests := []struct {
		name         string
		files        map[string]string
		confDir      bool
		modules      []string
		want         []string // module:enabled_explicitly
		wantDisabled []string
		wantErr      error
	}{
		{
			name:  "sorted, case kept, non-modules ignored",
			files: map[string]string{"a/zz.chart.py": "", "a/TEZOS.chart.py": "", "a/b.py": "", "a/.chart.py": ""},
			want:  []string{"TEZOS:false", "zz:false"},
		},
		{
			name:         "python.d.conf per-module and default_run",
			files:        map[string]string{"a/x.chart.py": "", "a/y.chart.py": "", "a/z.chart.py": "", "a/python.d.conf": "default_run: no\nx: yes\ny: no\ngc_run: yes\ngc_interval: 300\n"},
			want:         []string{"x:true"},
			wantDisabled: []string{"y", "z"},
		},
		{
			name:         "conf dir python.d.conf merged over the module dir's, key by key",
			files:        map[string]string{"a/x.chart.py": "", "a/y.chart.py": "", "a/python.d.conf": "x: no\ny: no\n", "conf/python.d.conf": "y: yes\n"},
			confDir:      true,
			want:         []string{"y:true"},
			wantDisabled: []string{"x"},
		},
		{
			name:         "enabled: no disables everything",
			files:        map[string]string{"a/x.chart.py": "", "a/python.d.conf": "enabled: no\nx: yes\n"},
			wantDisabled: []string{"x"},
		},
		{
			name:         "allow-list still obeys python.d.conf; unknown names are errors",
			files:        map[string]string{"a/x.chart.py": "", "a/y.chart.py": "", "a/w.chart.py": "", "a/python.d.conf": "y: no\n"},
			modules:      []string{"y", "x", "nope"},
			want:         []string{"x:false"},
			wantDisabled: []string{"y"},
			wantErr:      ErrUnknownModule,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := tree(t, tt.files)
			opts := Options{ModuleDirs: []string{filepath.Join(dir, "a"), filepath.Join(dir, "missing")}, Modules: tt.modules}
			if tt.confDir {
				opts.ConfDir = filepath.Join(dir, "conf")
			}
			f, err := Resolve(opts)
			if tt.wantErr != nil {
				require.ErrorIs(t, err, tt.wantErr)
			} else {
				require.NoError(t, err)
			}
			var got []string
			for _, m := range f.Modules {
				got = append(got, m.Name+":"+map[bool]string{true: "true", false: "false"}[m.EnabledExplicitly])
			}
			assert.Equal(t, tt.want, got)
			assert.Equal(t, tt.wantDisabled, f.Disabled)
		})
	}
}

func TestResolveFirstDirAndConfWins(t *testing.T) {
	dir := tree(t, map[string]string{
		"user/m.chart.py":  "",
		"user/m.conf":      "from_user_dir: 1\n",
		"stock/m.chart.py": "",
		"stock/m.conf":     "from_stock: 1\n",
		"stock/n.chart.py": "",
		"stock/n.conf":     "beside: 1\n",
		"conf/n.conf":      "from_conf_dir: 1\n",
	})
	f, err := Resolve(Options{ModuleDirs: []string{filepath.Join(dir, "user"), filepath.Join(dir, "stock")}, ConfDir: filepath.Join(dir, "conf")})
	require.NoError(t, err)
	require.Len(t, f.Modules, 2)
	assert.Equal(t, filepath.Join(dir, "user", "m.chart.py"), f.Modules[0].Path)
	assert.Equal(t, Map{{Key: "from_user_dir", Value: Number("1"), Line: 1}}, f.Modules[0].Jobs[0].Config)
	assert.Equal(t, filepath.Join(dir, "conf", "n.conf"), f.Modules[1].ConfPath)
	assert.Equal(t, Map{{Key: "from_conf_dir", Value: Number("1"), Line: 1}}, f.Modules[1].Jobs[0].Config, "first found wins, no merge")
}

func TestResolveErrors(t *testing.T) {
	tests := []struct {
		name     string
		files    map[string]string
		wantErr  error
		wantText []string // substrings of the error
		wantMods []string // modules still resolved
		wantJobs int      // jobs of module "b" when it survives
		fatal    bool
	}{
		{
			name:     "syntax error drops only that module and names file and line",
			files:    map[string]string{"a/a.chart.py": "", "a/b.chart.py": "", "a/a.conf": "j:\n  x: 1\n y: [\n"},
			wantErr:  ErrSyntax,
			wantText: []string{"a.conf:2:", `module "a"`},
			wantMods: []string{"b"},
			wantJobs: 1,
		},
		{
			name:     "bad default key drops that job only",
			files:    map[string]string{"a/b.chart.py": "", "a/b.conf": "ok:\n  x: 1\nbad:\n  x: 2\n  update_every: fast\n"},
			wantErr:  ErrBadValue,
			wantText: []string{"b.conf:5:", `key "update_every"`, `job "bad"`, `"fast"`},
			wantMods: []string{"b"},
			wantJobs: 1,
		},
		{
			name:     "conf file that is a list",
			files:    map[string]string{"a/b.chart.py": "", "a/b.conf": "- a\n- b\n"},
			wantErr:  ErrNotMapping,
			wantText: []string{"b.conf:1:"},
		},
		{
			name:     "python.d.conf syntax error skips that file only",
			files:    map[string]string{"a/b.chart.py": "", "a/c.chart.py": "", "a/python.d.conf": "c: no\n", "conf/python.d.conf": "b: no\nx: [\n"},
			wantErr:  ErrSyntax,
			wantText: []string{"conf/python.d.conf:"},
			wantMods: []string{"b"},
			wantJobs: 1,
		},
		{
			name:    "unreadable module dir is fatal",
			files:   map[string]string{"a": "a file, not a dir"},
			wantErr: ErrRead,
			fatal:   true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := tree(t, tt.files)
			f, err := Resolve(Options{ModuleDirs: []string{filepath.Join(dir, "a")}, ConfDir: filepath.Join(dir, "conf")})
			require.ErrorIs(t, err, tt.wantErr)
			var e *Error
			require.True(t, errors.As(err, &e), "typed error")
			for _, s := range tt.wantText {
				assert.Contains(t, err.Error(), s)
			}
			if tt.fatal {
				assert.Nil(t, f)
				return
			}
			var got []string
			for _, m := range f.Modules {
				got = append(got, m.Name)
				if m.Name == "b" {
					assert.Len(t, m.Jobs, tt.wantJobs)
				}
			}
			assert.Equal(t, tt.wantMods, got)
		})
	}
}

func TestJobsFileJSON(t *testing.T) {
	dir := tree(t, map[string]string{"m/ex.chart.py": "", "m/ex.conf": "two:\n  name: Two Lines\n  num_lines: 2\n"})
	f, err := Resolve(Options{ModuleDirs: []string{filepath.Join(dir, "m")}})
	require.NoError(t, err)
	var b strings.Builder
	_, err = f.WriteTo(&b)
	require.NoError(t, err)
	want := `{"update_every_min":1,"modules":[{"name":"ex","path":"` + filepath.Join(dir, "m", "ex.chart.py") +
		`","enabled_explicitly":false,"jobs":[{"job_name":"two","override_name":"Two_Lines","update_every":1,"priority":60000,"autodetection_retry":0,"chart_cleanup":10,"penalty":true,"explicit":[],"config":{"num_lines":2}}]}]}` + "\n"
	assert.Equal(t, want, b.String())
	assert.Equal(t, "Two_Lines", f.Modules[0].Jobs[0].ActualName())
}
