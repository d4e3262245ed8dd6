package pythond

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/pelletier/go-toml/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/collectkit/collectkit/point"
)

func TestParseConfig(t *testing.T) {
	t.Parallel()
	cfg, err := ParseConfig([]byte(`
[[inputs.pythond]]
  name = 'some-python-inputs'
  envs = ['LD_LIBRARY_PATH=/path/to/lib:$LD_LIBRARY_PATH',]
  cmd = "python3"
  dirs = ["mytest"]

[[inputs.pythond]]
  name = "second"
  dirs = ["a", "/abs/b"]
  workdir = "w"
  restart_min = "500ms"
  restart_max = "30s"
  run_timeout = "-1s"
  exact_ints = true
  [inputs.pythond.tags]
    env = "prod"
`))
	require.NoError(t, err)
	require.Len(t, cfg.Inputs, 2)
	assert.Equal(t, Input{
		Name: "some-python-inputs", Cmd: "python3", Dirs: []string{"mytest"},
		Envs: []string{"LD_LIBRARY_PATH=/path/to/lib:$LD_LIBRARY_PATH"},
	}, cfg.Inputs[0])
	assert.Equal(t, Input{
		Name: "second", Dirs: []string{"a", "/abs/b"}, Workdir: "w",
		RestartMin: Duration(500 * time.Millisecond), RestartMax: Duration(30 * time.Second),
		RunTimeout: Duration(-time.Second), Tags: map[string]string{"env": "prod"},
		ExactInts: true,
	}, cfg.Inputs[1])
	assert.Equal(t, time.Second, cfg.Inputs[0].restartMin())
	assert.Equal(t, time.Minute, cfg.Inputs[0].restartMax())
}

func TestRestartBounds(t *testing.T) {
	t.Parallel()
	ms := func(n int) Duration { return Duration(time.Duration(n) * time.Millisecond) }
	tests := []struct {
		name     string
		min, max Duration
		lo, hi   time.Duration
	}{
		{name: "defaults", lo: time.Second, hi: time.Minute},
		{name: "only max below the default min", max: ms(500), lo: 500 * time.Millisecond, hi: 500 * time.Millisecond},
		{name: "only max above the default min", max: ms(5000), lo: time.Second, hi: 5 * time.Second},
		{name: "only min above the default max", min: ms(90000), lo: 90 * time.Second, hi: 90 * time.Second},
		{name: "both", min: ms(100), max: ms(200), lo: 100 * time.Millisecond, hi: 200 * time.Millisecond},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := Input{Name: "a", Dirs: []string{"d"}, RestartMin: tc.min, RestartMax: tc.max}
			require.NoError(t, in.Validate())
			assert.Equal(t, tc.lo, in.restartMin())
			assert.Equal(t, tc.hi, in.restartMax())
		})
	}
}

func TestParseConfigErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		doc  string
		want []string // ConfigError keys, in order
		line int      // line of the first error, if known
		text string   // in the error text
	}{
		{name: "unknown key", doc: "[[inputs.pythond]]\nname = 'a'\ndirs = ['d']\nintervals = 10\n", want: []string{"inputs.pythond.intervals"}, line: 4, text: "unknown key"},
		{name: "unknown top-level key", doc: "listen = 'x'\n", want: []string{"listen"}, line: 1},
		{name: "wrong type", doc: "[[inputs.pythond]]\nname = 'a'\ndirs = 'd'\n", want: []string{"inputs.pythond.dirs"}, line: 3},
		{name: "bad duration", doc: "[[inputs.pythond]]\nname = 'a'\ndirs = ['d']\nrestart_min = 'soon'\n", want: []string{"inputs.pythond.restart_min"}, line: 4, text: `invalid duration "soon"`},
		{name: "syntax error", doc: "[[inputs.pythond]\n", line: 1},
		{name: "missing name and dirs", doc: "[[inputs.pythond]]\ncmd = 'python3'\n", want: []string{"inputs.pythond[0].name", "inputs.pythond[0].dirs"}},
		{name: "bad env and empty dir", doc: "[[inputs.pythond]]\nname='a'\ndirs=['']\nenvs=['NOEQUALS']\n", want: []string{"inputs.pythond[0].dirs[0]", "inputs.pythond[0].envs[0]"}, text: `"NOEQUALS" is not KEY=VALUE`},
		{name: "restart bounds reversed", doc: "[[inputs.pythond]]\nname='a'\ndirs=['d']\nrestart_min='10s'\nrestart_max='1s'\n", want: []string{"inputs.pythond[0].restart_max"}},
		{name: "restart_max below an explicit restart_min", doc: "[[inputs.pythond]]\nname='a'\ndirs=['d']\nrestart_min='1s'\nrestart_max='500ms'\n", want: []string{"inputs.pythond[0].restart_max"}, text: "restart_max 500ms is less than restart_min 1s"},
		{name: "duplicate names", doc: "[[inputs.pythond]]\nname='a'\ndirs=['d']\n[[inputs.pythond]]\nname='a'\ndirs=['e']\n", want: []string{"inputs.pythond[1].name"}, text: "already used"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseConfig([]byte(tc.doc))
			require.Error(t, err)
			assert.ErrorIs(t, err, ErrInvalidConfig)
			var keys []string
			var first *ConfigError
			for _, e := range flatten(err) {
				var ce *ConfigError
				if errors.As(e, &ce) {
					if first == nil {
						first = ce
					}
					if ce.Key != "" {
						keys = append(keys, ce.Key)
					}
				}
			}
			require.NotNil(t, first, "a ConfigError: %v", err)
			assert.Equal(t, tc.want, keys, "%v", err)
			if tc.line > 0 {
				assert.Equal(t, tc.line, first.Line, "%v", err)
			}
			assert.Contains(t, err.Error(), tc.text)
		})
	}
}

// flatten unwraps errors.Join trees.
func flatten(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range j.Unwrap() {
			out = append(out, flatten(e)...)
		}
		return out
	}
	return []error{err}
}

// TestEmbedInHostConfig shows the documented way a host embeds pythond's
// tables in its own configuration.
func TestEmbedInHostConfig(t *testing.T) {
	t.Parallel()
	var host struct {
		Listen string `toml:"listen"`
		Inputs struct {
			Pythond []Input `toml:"pythond"`
		} `toml:"inputs"`
	}
	err := toml.Unmarshal([]byte("listen = ':9529'\n[[inputs.pythond]]\nname = 'a'\ndirs = ['d']\nrun_timeout = '5s'\n"), &host)
	require.NoError(t, err)
	require.Len(t, host.Inputs.Pythond, 1)
	assert.NoError(t, host.Inputs.Pythond[0].Validate())
	assert.Equal(t, Duration(5*time.Second), host.Inputs.Pythond[0].RunTimeout)
}

func TestNewErrors(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	outside := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(root, "ok"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(outside, "x.py"), nil, 0o644))
	require.NoError(t, os.Symlink(outside, filepath.Join(root, "escape")))
	require.NoError(t, os.WriteFile(filepath.Join(root, "notpy.txt"), nil, 0o644))
	tests := []struct {
		name  string
		input Input
		key   string
		is    error
		text  string
	}{
		{name: "dotdot", input: Input{Dirs: []string{"../x"}}, key: "inputs.pythond[0].dirs[0]", is: ErrBadDir, text: "leaves the python.d root"},
		{name: "symlink out of root", input: Input{Dirs: []string{"escape"}}, key: "inputs.pythond[0].dirs[0]", is: ErrBadDir, text: "symbolic link"},
		{name: "missing", input: Input{Dirs: []string{"ok", "nope"}}, key: "inputs.pythond[0].dirs[1]", is: ErrBadDir, text: `"nope" does not exist`},
		{name: "absolute missing", input: Input{Dirs: []string{filepath.Join(outside, "nope")}}, key: "inputs.pythond[0].dirs[0]", is: ErrBadDir, text: "no such file"},
		{name: "not a py file", input: Input{Dirs: []string{"notpy.txt"}}, key: "inputs.pythond[0].dirs[0]", is: ErrBadDir, text: "neither a directory nor a .py file"},
		{name: "missing interpreter", input: Input{Dirs: []string{"ok"}, Cmd: "python-collectkit-missing"}, key: "inputs.pythond[0].cmd", is: ErrInvalidConfig, text: `Python interpreter "python-collectkit-missing" not found`},
		{name: "missing workdir", input: Input{Dirs: []string{"ok"}, Workdir: "nowhere"}, key: "inputs.pythond[0].workdir", is: ErrInvalidConfig, text: "not a directory"},
		{name: "workdir leaves the root", input: Input{Dirs: []string{"ok"}, Workdir: "../../.."}, key: "inputs.pythond[0].workdir", is: ErrInvalidConfig, text: "leaves the python.d root"},
		{name: "workdir symlink out of root", input: Input{Dirs: []string{"ok"}, Workdir: "escape"}, key: "inputs.pythond[0].workdir", is: ErrInvalidConfig, text: "outside the python.d root"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.input.Name = "n"
			_, err := New(Options{Inputs: []Input{tc.input}, Root: root, Sink: point.Discard(), Strict: true})
			require.Error(t, err)
			assert.ErrorIs(t, err, tc.is)
			var ce *ConfigError
			require.ErrorAs(t, err, &ce)
			assert.Equal(t, tc.key, ce.Key)
			assert.Contains(t, err.Error(), tc.text)
		})
	}
	t.Run("absolute path outside the root is allowed", func(t *testing.T) {
		_, err := New(Options{Inputs: []Input{{Name: "n", Dirs: []string{outside, filepath.Join(outside, "x.py")}}}, Root: root, Sink: point.Discard()})
		assert.NoError(t, err)
	})
	t.Run("sink required", func(t *testing.T) {
		_, err := New(Options{})
		assert.ErrorContains(t, err, "Sink is required")
	})
	t.Run("global tags need keys and values", func(t *testing.T) {
		in := []Input{{Name: "n", Dirs: []string{"ok"}}}
		_, err := New(Options{Inputs: in, Root: root, Sink: point.Discard(), GlobalTags: map[string]string{"host": ""}})
		assert.ErrorContains(t, err, `Options.GlobalTags: tag "host" has an empty value`)
		_, err = New(Options{Inputs: in, Root: root, Sink: point.Discard(), GlobalTags: map[string]string{"": "x"}})
		assert.ErrorContains(t, err, "Options.GlobalTags: empty tag key")
	})
}

func TestGitRepoDirs(t *testing.T) {
	t.Parallel()
	base := t.TempDir()
	root := filepath.Join(base, "python.d")
	git := filepath.Join(base, "gitrepos")
	for _, d := range []string{
		filepath.Join(root, "mytest"), filepath.Join(root, "onlyroot"),
		filepath.Join(git, "myconf", "python.d", "mytest"),
		filepath.Join(git, "zother", "python.d", "onlyz"),
	} {
		require.NoError(t, os.MkdirAll(d, 0o755))
	}
	tests := []struct {
		name, repo, dir, want string
	}{
		{"repo wins", "myconf", "mytest", filepath.Join(git, "myconf", "python.d", "mytest")},
		{"falls back to root", "myconf", "onlyroot", filepath.Join(root, "onlyroot")},
		{"any repo in order", "", "onlyz", filepath.Join(git, "zother", "python.d", "onlyz")},
		{"named repo only", "myconf", "onlyz", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rs := roots{root: root, gitRepos: git, gitRepo: tc.repo}
			got, err := rs.resolve("k", tc.dir)
			if tc.want == "" {
				assert.ErrorIs(t, err, ErrBadDir)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestInstallPython(t *testing.T) {
	t.Parallel()
	state := t.TempDir()
	user := filepath.Join(state, "pythond", "user-file.txt")
	require.NoError(t, os.MkdirAll(filepath.Dir(user), 0o755))
	require.NoError(t, os.WriteFile(user, []byte("mine"), 0o644))
	dir, err := installPython(state)
	require.NoError(t, err)
	for _, name := range []string{"datakit/datakit_framework.py", "runtime/_collectkit_channel.py", datakitRunner} {
		want, err := pyFS.ReadFile("py/" + name)
		require.NoError(t, err)
		got, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(name)))
		require.NoError(t, err)
		assert.Equal(t, want, got, name)
	}
	again, err := installPython(state)
	require.NoError(t, err)
	assert.Equal(t, dir, again, "content-addressed: the same directory")
	b, err := os.ReadFile(user)
	require.NoError(t, err)
	assert.Equal(t, "mine", string(b), "other files are left alone")
	entries, err := os.ReadDir(filepath.Dir(dir))
	require.NoError(t, err)
	assert.Len(t, entries, 2, "no temporary directory left behind")
}
