package main

import (
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/collectkit/collectkit/httpapi"
)

func TestExpandEnv(t *testing.T) {
	env := map[string]string{"HOST": "web01", "PORT": "9529", "QUOTE": `a"b\c`, "EMPTY": "", "TICK": "it's"}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	tests := []struct {
		name, in, want, err string
	}{
		{"braces", `listen = "127.0.0.1:${PORT}"`, `listen = "127.0.0.1:9529"`, ""},
		{"bare name", `host = "$HOST"`, `host = "web01"`, ""},
		{"outside strings", `max_points = ${PORT}`, `max_points = 9529`, ""},
		{"dollar dollar", `envs = ["PATH=$$PATH"]`, `envs = ["PATH=$PATH"]`, ""},
		{"default", `a = "${NOPE:-x y}"`, `a = "x y"`, ""},
		{"default for empty", `a = "${EMPTY:-d}"`, `a = "d"`, ""},
		{"set but empty", `a = "${EMPTY}"`, `a = ""`, ""},
		{"escaped in basic string", `a = "${QUOTE}"`, `a = "a\"b\\c"`, ""},
		{"literal string", `a = '${HOST}'`, `a = 'web01'`, ""},
		{"quote in literal string", `a = '${TICK}'`, "", "cannot be put in a '...' string"},
		{"comment untouched", "# envs = [\"$UNSET\"]\na = 1 # $ALSO_UNSET", "# envs = [\"$UNSET\"]\na = 1 # $ALSO_UNSET", ""},
		{"hash in string is not a comment", `a = "#$HOST"`, `a = "#web01"`, ""},
		{"lone dollar", `a = "5$ or $1"`, `a = "5$ or $1"`, ""},
		{"missing", "a = 1\nb = \"$UNSET_VAR\"", "", "agent.toml:2: environment variable UNSET_VAR is not set"},
		{"missing braces", "b = \"${UNSET_VAR}\"", "", "environment variable UNSET_VAR is not set"},
		{"multi-line string", "a = \"\"\"\n$HOST\n\"\"\"\nb = \"$HOST\"", "a = \"\"\"\nweb01\n\"\"\"\nb = \"web01\"", ""},
		{"escaped quote", `a = "x\"$HOST"`, `a = "x\"web01"`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := expandEnv("agent.toml", []byte(tt.in), lookup)
			if tt.err != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, string(got))
		})
	}
}

func TestExpandEnvReportsEveryMissingVariable(t *testing.T) {
	_, err := expandEnv("a.toml", []byte("a = \"$ONE\"\nb = \"${TWO}\"\n"), func(string) (string, bool) { return "", false })
	require.Error(t, err)
	assert.Contains(t, err.Error(), "a.toml:1: environment variable ONE")
	assert.Contains(t, err.Error(), "a.toml:2: environment variable TWO")
}

func noEnv(string) (string, bool) { return "", false }

func TestConfigDirMerges(t *testing.T) {
	dir := t.TempDir()
	main := writeFile(t, dir, "agent.toml", "listen = \"127.0.0.1:0\"\n[[inputs.pythond]]\nname = \"main\"\ndirs = [\"m\"]\n")
	confd := filepath.Join(dir, "conf.d")
	require.NoError(t, os.MkdirAll(filepath.Join(confd, "sub"), 0o755))
	writeFile(t, confd, "a.conf", "[[inputs.pythond]]\nname = \"a\"\ndirs = [\"a\"]\n[global_tags]\nhost = \"h\"\n")
	writeFile(t, filepath.Join(confd, "sub"), "b.toml", "[[inputs.prom]]\nurls = [\"http://127.0.0.1:9100/metrics\"]\n[global_tags]\nzone = \"z\"\n")
	writeFile(t, confd, "ignored.conf.sample", "this is not toml")
	cs, err := loadConfigSet(main, confd, nil, "", noEnv)
	require.NoError(t, err)
	var names []string
	for _, in := range cs.cfg.Inputs.Pythond {
		names = append(names, in.Name)
	}
	assert.Equal(t, []string{"main", "a"}, names, "inputs are appended in file order")
	assert.Len(t, cs.cfg.Inputs.Prom, 1)
	assert.Equal(t, map[string]string{"host": "h", "zone": "z"}, cs.cfg.GlobalTags)
	assert.Equal(t, dir, cs.baseDir)
	assert.Equal(t, dir, cs.installDir, "a dir named conf.d has DataKit's layout")
	assert.Equal(t, filepath.Join(dir, "python.d"), cs.cfg.PythondDir)

	t.Run("duplicate scalar", func(t *testing.T) {
		writeFile(t, confd, "c.conf", "listen = \"127.0.0.1:1\"\n[global_tags]\nhost = \"other\"\n")
		defer os.Remove(filepath.Join(confd, "c.conf"))
		_, err := loadConfigSet(main, confd, nil, "", noEnv)
		require.Error(t, err)
		assert.Contains(t, err.Error(), "listen is set in "+main+" and again in "+filepath.Join(confd, "c.conf"))
		assert.Contains(t, err.Error(), "global_tags.host is set in "+filepath.Join(confd, "a.conf")+" and again in "+filepath.Join(confd, "c.conf"))
	})
	t.Run("unknown key names the file", func(t *testing.T) {
		writeFile(t, confd, "d.conf", "[[inputs.pythond]]\nname = \"d\"\ndirs = [\"d\"]\nintreval = 1\n")
		defer os.Remove(filepath.Join(confd, "d.conf"))
		_, err := loadConfigSet(main, confd, nil, "", noEnv)
		require.Error(t, err)
		assert.Contains(t, err.Error(), filepath.Join(confd, "d.conf")+": unknown configuration key inputs.pythond.intreval")
	})
}

// DataKit's layout: <install>/conf.d holds the inputs' .conf files (and
// DataKit's own datakit.conf, which is skipped), python.d and gitrepos
// are beside it.
func TestDataKitLayout(t *testing.T) {
	install := t.TempDir()
	confd := filepath.Join(install, "conf.d")
	require.NoError(t, os.MkdirAll(filepath.Join(confd, "pythond"), 0o755))
	writeFile(t, confd, "datakit.conf", "default_enabled_inputs = [\"cpu\"]\n[dataway]\nurls = [\"x\"]\n")
	writeFile(t, filepath.Join(confd, "pythond"), "pythond.conf", seedPythondConf(t))
	require.NoError(t, os.MkdirAll(filepath.Join(confd, "host"), 0o755))
	writeFile(t, filepath.Join(confd, "host"), "cpu.conf", "[[inputs.cpu]]\npercpu = false\n")
	cs, err := loadConfigSet("", confd, nil, "", noEnv)
	require.NoError(t, err)
	assert.Equal(t, install, cs.installDir)
	assert.Equal(t, filepath.Join(install, "python.d"), cs.cfg.PythondDir)
	require.Len(t, cs.cfg.Inputs.Pythond, 1)
	assert.Equal(t, "some-python-inputs", cs.cfg.Inputs.Pythond[0].Name)
	assert.Equal(t, []string{"mytest"}, cs.cfg.Inputs.Pythond[0].Dirs)
	joined := strings.Join(cs.notes, "\n")
	assert.Contains(t, joined, "datakit.conf: DataKit's own configuration, not read")
	assert.Contains(t, joined, "[[inputs.cpu]] is not an input this agent runs; skipped")

	t.Run("git repo", func(t *testing.T) {
		repoConfd := filepath.Join(install, "gitrepos", "myconf", "conf.d")
		require.NoError(t, os.MkdirAll(repoConfd, 0o755))
		writeFile(t, repoConfd, "pythond.conf", "[[inputs.pythond]]\nname = \"from-git\"\ncmd = \"python3\"\ndirs = [\"mytest\"]\n")
		writeFile(t, confd, "git.conf", "git_repo = \"myconf\"\n")
		defer os.Remove(filepath.Join(confd, "git.conf"))
		cs, err := loadConfigSet("", confd, nil, "", noEnv)
		require.NoError(t, err)
		assert.Equal(t, filepath.Join(install, "gitrepos"), cs.cfg.GitReposDir)
		require.Len(t, cs.cfg.Inputs.Pythond, 2)
		assert.Equal(t, "from-git", cs.cfg.Inputs.Pythond[1].Name)
	})
}

// seedPythondConf is the [[inputs.pythond]] sample of DataKit's pythond
// documentation, as written there.
func seedPythondConf(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "datakit", "pythond.conf"))
	require.NoError(t, err)
	return string(b)
}

// The sample configuration names every key of Config, so that
// -sample-config documents them all.
func TestSampleConfigCoversEveryKey(t *testing.T) {
	sample := string(sampleConfig)
	var walk func(prefix string, typ reflect.Type)
	walk = func(prefix string, typ reflect.Type) {
		for typ.Kind() == reflect.Pointer || typ.Kind() == reflect.Slice {
			typ = typ.Elem()
		}
		if typ.Kind() != reflect.Struct {
			return
		}
		for i := range typ.NumField() {
			f := typ.Field(i)
			if f.Anonymous {
				walk(prefix, f.Type)
				continue
			}
			tag := strings.Split(f.Tag.Get("toml"), ",")[0]
			if tag == "" || tag == "-" {
				continue
			}
			ft := f.Type
			for ft.Kind() == reflect.Pointer || ft.Kind() == reflect.Slice {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct && ft.NumField() > 0 && ft.PkgPath() != "time" {
				switch {
				case f.Type.Kind() == reflect.Slice:
					assert.True(t, strings.Contains(sample, "# [["+prefix+tag+"]]"), "table array %s%s is not in sample.toml", prefix, tag)
				case tag != "inputs": // only holds the table arrays
					assert.True(t, strings.Contains(sample, "# ["+prefix+tag+"]"), "table %s%s is not in sample.toml", prefix, tag)
				}
				walk(prefix+tag+".", ft)
				continue
			}
			if ft.Kind() == reflect.Map {
				assert.True(t, strings.Contains(sample, "# ["+prefix+tag+"]"), "table %s%s is not in sample.toml", prefix, tag)
				continue
			}
			assert.True(t, regexp.MustCompile(`(?m)^# `+tag+` = `).MatchString(sample), "key %s%s is not in sample.toml", prefix, tag)
		}
	}
	walk("", reflect.TypeOf(Config{}))
	// Commented out, it is the empty configuration.
	_, err := parseConfig("sample.toml", sampleConfig)
	require.NoError(t, err)
}

// Every httpapi.Limits field can be set from [http].
func TestEveryHTTPLimitIsSettable(t *testing.T) {
	var h HTTPConfig
	v := reflect.ValueOf(&h).Elem()
	for i := range v.NumField() {
		f := v.Field(i)
		switch f.Kind() {
		case reflect.Int, reflect.Int64:
			f.SetInt(7)
		}
	}
	l := reflect.ValueOf(h.limits())
	for i := range l.NumField() {
		assert.False(t, l.Field(i).IsZero(), "httpapi.Limits.%s is not set by any [http] key", l.Type().Field(i).Name)
	}
	_ = httpapi.Limits{}
}
