package collectdconf

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// write creates the files (path: content) under dir.
func write(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, name)
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(content), 0o644))
	}
}

// typed shows a node's values with their types, as the cross-check
// plugin dumps them.
func typed(vs []any) [][2]any {
	out := [][2]any{}
	for _, v := range vs {
		switch v := v.(type) {
		case string:
			out = append(out, [2]any{"str", v})
		case float64:
			out = append(out, [2]any{"float", v})
		case bool:
			out = append(out, [2]any{"bool", v})
		}
	}
	return out
}

func TestParseForms(t *testing.T) {
	tests := []struct {
		name, src string
		want      string // the nodes written back, one per line
	}{
		{"quoted", `A "x \"y\" \\ z" "\n\t"`, `A "x \"y\" \\ z" "nt"`},
		{"bare and numbers", `A bare 42 -1.5 +5 .5 0x10 010 1e3 1.5e+3`, `A "bare" 42 -1.5 5 0.5 16 10 "1e3" 1500`},
		{"booleans lowercase only", `A true false yes no on off True "true"`, `A true false true false true false "True" "true"`},
		{"skipped characters", `A a.b a-b a=b a:b a;b a,b`, `A "a" "b" "a" "b" "a" "b" "a" "b" "a" "b" "a" "b"`},
		{"exponent needs a sign", `A 1.5e3`, `A 1.5 "e3"`},
		{"ip addresses", `A 127.0.0.1 10.0.0.1:8080 ::1 [fe80::1]:80 300.1.1.1`, `A "127.0.0.1" "10.0.0.1:8080" "::1" "[fe80::1]:80" 300.1 0.1 0.1`},
		{"comment", "A a # b c\nB \"#x\"", "A \"a\"\nB \"#x\""},
		{"continuation", "A a \\\n b\nB \"x\\\ny\"", "A \"a\" \"b\"\nB \"xy\""},
		{"crlf", "A 1\r\nB 2\r\n", "A 1\nB 2"},
		{"multi-line string", "A \"a\nb\"", "A \"a\nb\""},
		{"block", "<S \"x\" 1>\n  D 1\n  <T>\n    E e\n  </T>\n</S>", "<S \"x\" 1>\n  D 1\n  <T>\n    E \"e\"\n  </T>\n</S>"},
		{"spaces in tags", "< S a >\n< / S >", "<S \"a\">\n</S>"},
		{"empty block dropped", "<S>\n</S>\nA 1", "A 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			nodes, err := parse(tt.src, "f.conf")
			require.NoError(t, err)
			var lines []string
			for _, n := range nodes {
				lines = append(lines, n.String())
			}
			assert.Equal(t, tt.want, strings.Join(lines, "\n"))
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, src string
		line      int
		want      string
	}{
		{"no value", "A 1\nB\n", 2, "option B has no value"},
		{"slash", "A /a/b\n", 1, "quote values such as paths"},
		{"number key", "1 a\n", 1, "expected an option name"},
		{"quoted key", "\"A\" b\n", 1, "expected an option name"},
		{"not closed", "<S a>\nA 1\n", 1, "block <S> is not closed"},
		{"wrong close", "<S a>\n</s>\n", 2, "</s> does not close block <S>"},
		{"stray close", "</S>\n", 1, "closes no open block"},
		{"close with values", "<S a>\n</S a>\n", 2, "expected '>' to end </S"},
		{"same line", "<S a> A 1\n</S>\n", 1, "expected the end of the line"},
		{"junk after close", "<S a>\n</S> x\n", 2, "expected the end of the line"},
		{"unclosed quote is skipped", "A 1\nB \"abc/\n\n", 2, "found '/'"},
		{"quoted block name", "<\"S\" a>\n</S>\n", 1, "a block name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parse(tt.src, "f.conf")
			require.Error(t, err)
			var e *Error
			require.ErrorAs(t, err, &e)
			assert.ErrorIs(t, err, ErrSyntax)
			assert.Equal(t, tt.line, e.Line, "%v", err)
			assert.Contains(t, err.Error(), tt.want)
			assert.True(t, strings.HasPrefix(err.Error(), "f.conf:"), "%v", err)
		})
	}
}

func TestLoadGlobalsAndPython(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, map[string]string{"collectd.conf": `
hostname "web01"
FQDNLookup false
Interval 2.5
MaxReadInterval "60"
ReadThreads 3
TypesDB "/usr/share/collectd/types.db" "my.db"
TypesDB "/other.db"
BaseDir "/var/lib/collectd"
PIDFile "/run/collectd.pid"
LoadPlugin cpu
LoadPlugin csv
<LoadPlugin python>
  Globals true
  Interval 5
</LoadPlugin>
<Plugin cpu>
  ReportByCpu true
</Plugin>
<Plugin df>
</Plugin>
<Plugin python>
  ModulePath "mods"
  LogTraces true
  Import "one"
  <Module one>
    Path "/x" 42 true
    <Sub "s">
      K v
    </Sub>
  </Module>
</Plugin>
<Plugin "Python">
  Import two
  Interactive false
</Plugin>
`})
	cfg, err := Load("collectd.conf", Options{Dir: dir})
	require.NoError(t, err)
	assert.Equal(t, "web01", cfg.Hostname)
	assert.False(t, cfg.FQDNLookup)
	assert.Equal(t, 2500*time.Millisecond, cfg.Interval)
	assert.Equal(t, time.Minute, cfg.MaxReadInterval)
	assert.Equal(t, 3, cfg.ReadThreads)
	assert.Equal(t, []string{"/usr/share/collectd/types.db", filepath.Join(dir, "my.db"), "/other.db"}, cfg.TypesDB)
	assert.Equal(t, []string{"cpu", "csv", "df"}, cfg.Skipped)
	assert.Empty(t, cfg.Warnings)
	py := cfg.Python
	assert.True(t, py.Loaded)
	assert.True(t, py.Globals)
	assert.Equal(t, 5*time.Second, py.Interval)
	assert.True(t, py.LogTraces)
	require.Len(t, py.Items, 4)
	assert.Equal(t, Item{Kind: ItemModulePath, Path: filepath.Join(dir, "mods")}, py.Items[0])
	assert.Equal(t, Item{Kind: ItemImport, Module: "one"}, py.Items[1])
	assert.Equal(t, ItemModule, py.Items[2].Kind)
	assert.Equal(t, "one", py.Items[2].Name)
	assert.Equal(t, Item{Kind: ItemImport, Module: "two"}, py.Items[3])
	b, err := json.Marshal(py.Items[2].Config)
	require.NoError(t, err)
	assert.JSONEq(t, `{"key":"Module","values":["one"],"children":[
		{"key":"Path","values":["/x",42.0,true],"children":[]},
		{"key":"Sub","values":["s"],"children":[{"key":"K","values":["v"],"children":[]}]}]}`, string(b))
}

func TestLoadDefaultsAndPlainPluginFile(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, map[string]string{"py.conf": "<Plugin python>\n  Import \"m\"\n</Plugin>\n"})
	cfg, err := Load(filepath.Join(dir, "py.conf"), Options{})
	require.NoError(t, err)
	assert.True(t, cfg.FQDNLookup)
	assert.Zero(t, cfg.Interval)
	assert.Empty(t, cfg.Hostname)
	assert.False(t, cfg.Python.Loaded)
	assert.Equal(t, []Item{{Kind: ItemImport, Module: "m"}}, cfg.Python.Items)
}

func TestLoadPythonBlockBeforeLoadPlugin(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, map[string]string{"c.conf": "<Plugin python>\n  Import \"early\"\n</Plugin>\nLoadPlugin python\n<Plugin python>\n  Import \"late\"\n</Plugin>\n"})
	cfg, err := Load("c.conf", Options{Dir: dir})
	require.NoError(t, err)
	assert.Equal(t, []Item{{Kind: ItemImport, Module: "late"}}, cfg.Python.Items)
	require.Len(t, cfg.Warnings, 1)
	assert.Contains(t, cfg.Warnings[0].Error(), "c.conf:1:")
}

func TestLoadValueErrors(t *testing.T) {
	tests := []struct {
		name, src string
		line      int
		want      string
	}{
		{"two hostnames", "Hostname a b\n", 1, "needs exactly one argument"},
		{"two intervals", "A_ok 1\nInterval 1 2\n", 2, "needs exactly one argument"},
		{"module path number", "<Plugin python>\n  ModulePath 1\n</Plugin>\n", 2, "ModulePath needs exactly one string"},
		{"import two", "<Plugin python>\n  Import a b\n</Plugin>\n", 2, "Import needs exactly one string"},
		{"module no name", "<Plugin python>\n  <Module>\n    X 1\n  </Module>\n</Plugin>\n", 2, "Module needs exactly one string"},
		{"unknown key", "<Plugin python>\n  Include \"x\"\n</Plugin>\n", 2, `unknown config key "Include"`},
		{"bad bool", "<Plugin python>\n  LogTraces 1\n</Plugin>\n", 2, "needs one boolean"},
		{"load two", "LoadPlugin python cpu\n", 1, "LoadPlugin needs exactly one string"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			write(t, dir, map[string]string{"c.conf": tt.src})
			_, err := Load("c.conf", Options{Dir: dir})
			require.Error(t, err)
			assert.ErrorIs(t, err, ErrValue)
			var e *Error
			require.ErrorAs(t, err, &e)
			assert.Equal(t, tt.line, e.Line)
			assert.Contains(t, err.Error(), tt.want)
			assert.Contains(t, err.Error(), filepath.Join(dir, "c.conf")+":")
		})
	}
}

func TestLoadWarnings(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, map[string]string{"c.conf": `Interval abc
Interval 0
ReadThreads 0
Bogus 1
<LoadPlugin python>
  Bogus 1
</LoadPlugin>
<Plugin python>
  LogTraces "true"
  Encoding "latin-1"
</Plugin>
Include "missing.conf"
Include "a" "b"
`})
	cfg, err := Load("c.conf", Options{Dir: dir})
	require.NoError(t, err)
	assert.Zero(t, cfg.Interval)
	assert.Zero(t, cfg.ReadThreads)
	assert.True(t, cfg.Python.LogTraces)
	assert.Equal(t, "latin-1", cfg.Python.Encoding)
	var lines []int
	for _, w := range cfg.Warnings {
		var e *Error
		require.ErrorAs(t, w, &e)
		lines = append(lines, e.Line)
	}
	assert.Equal(t, []int{12, 13, 1, 2, 3, 4, 6, 9, 10}, lines, "%v", cfg.Warnings)
}

func TestInclude(t *testing.T) {
	dir := t.TempDir()
	mod := func(key string) string { return "<Plugin python>\n  Import \"" + key + "\"\n</Plugin>\n" }
	write(t, dir, map[string]string{
		"main.conf":       "LoadPlugin python\nInclude \"part.conf\"\nInclude \"d\"\nInclude \"g/*.conf\"\n<Include \"f\">\n  Filter \"*.conf\"\n</Include>\n",
		"part.conf":       mod("part"),
		"d/b.conf":        mod("d_b"),
		"d/a.conf":        mod("d_a"),
		"d/.hidden.conf":  mod("hidden"),
		"d/sub/s.conf":    mod("d_sub_s"),
		"d/z.txt":         mod("d_z_txt"),
		"g/2.conf":        mod("g2"),
		"g/1.conf":        mod("g1"),
		"g/3.txt":         mod("g3"),
		"f/x.conf":        mod("f_x"),
		"f/README":        "this is not a config file",
		"f/deep/y.conf":   mod("f_deep_y"),
		"f/deep/y.conf~x": "junk",
	})
	cfg, err := Load("main.conf", Options{Dir: dir})
	require.NoError(t, err)
	var got []string
	for _, it := range cfg.Python.Items {
		got = append(got, it.Module)
	}
	assert.Equal(t, []string{"part", "d_a", "d_b", "d_sub_s", "d_z_txt", "g1", "g2", "f_deep_y", "f_x"}, got)
	assert.Empty(t, cfg.Warnings)
	assert.Len(t, cfg.Files, 10)
}

func TestIncludeInsideBlockIsAnOption(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, map[string]string{"c.conf": "<Plugin python>\n  <Module m>\n    Include \"x.conf\"\n  </Module>\n</Plugin>\n"})
	cfg, err := Load("c.conf", Options{Dir: dir})
	require.NoError(t, err)
	require.Len(t, cfg.Python.Items, 1)
	assert.Equal(t, "Include \"x.conf\"", cfg.Python.Items[0].Config.Children[0].String())
}

func TestIncludeLoopAndDepth(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, map[string]string{
		"loop.conf": "Include \"a.conf\"\n",
		"a.conf":    "Hostname x\nInclude \"loop.conf\"\n",
	})
	_, err := Load("loop.conf", Options{Dir: dir})
	require.Error(t, err)
	assert.ErrorIs(t, err, ErrInclude)
	assert.Contains(t, err.Error(), filepath.Join(dir, "a.conf")+":2: include error: include loop")

	files := map[string]string{}
	for i := 1; i < 9; i++ {
		files[filepath.Join("deep", string(rune('0'+i))+".conf")] = "Include \"deep/" + string(rune('1'+i)) + ".conf\"\n"
	}
	files["deep/9.conf"] = "Hostname deep\n"
	write(t, dir, files)
	_, err = Load("deep/1.conf", Options{Dir: dir})
	require.Error(t, err)
	assert.ErrorIs(t, err, ErrInclude)
	assert.Contains(t, err.Error(), "8.conf:1:")
	cfg, err := Load("deep/2.conf", Options{Dir: dir})
	require.NoError(t, err, "eight files deep is allowed")
	assert.Equal(t, "deep", cfg.Hostname)
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "nope.conf"), Options{})
	require.Error(t, err)
	assert.True(t, errors.Is(err, ErrRead))
	assert.Contains(t, err.Error(), "nope.conf")
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"A 1\n", "<S a>\n B \"x\"\n</S>\n", "A 127.0.0.1:80 [::1]:1 0x1f\n", "A \"\\\n\"", "<"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		nodes, err := parse(src, "f")
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || e.Line < 1 {
				t.Fatalf("error without a line: %v", err)
			}
			return
		}
		// What parses, written back, parses to the same tree.
		var b strings.Builder
		for _, n := range nodes {
			b.WriteString(n.String())
			b.WriteByte('\n')
		}
		again, err := parse(b.String(), "f")
		if err != nil {
			t.Fatalf("written back %q: %v", b.String(), err)
		}
		j1, _ := json.Marshal(nodes)
		j2, _ := json.Marshal(again)
		if string(j1) != string(j2) {
			t.Fatalf("round trip: %s != %s", j1, j2)
		}
	})
}
