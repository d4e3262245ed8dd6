package collectdconf

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// dumpPlugin is a collectd Python plugin whose config callback writes the
// Config it gets, each value with its Python type, as JSON lines.
const dumpPlugin = `import collectd, json, os

def node(c):
    return {"key": c.key,
            "values": [[type(v).__name__, v] for v in c.values],
            "children": [node(x) for x in c.children]}

def config(c):
    with open(os.environ["DUMP"], "a") as f:
        f.write(json.dumps(node(c)) + "\n")

collectd.register_config(config)
`

// realCollectd returns the collectd binary, skipping (or, under CI,
// failing) when it or its python plugin is missing.
func realCollectd(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("collectd")
	if err != nil {
		path = "/usr/sbin/collectd"
	}
	_, err1 := os.Stat(path)
	_, err2 := os.Stat("/usr/lib/collectd/python.so")
	if err1 != nil || err2 != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("collectd with its python plugin is required under CI (Debian collectd-core, libpython3.11)")
		}
		t.Skip("collectd or its python plugin is not installed")
	}
	return path
}

// TestCrossCheckCollectd reads the same files with Load and with the real
// collectd (-T: read the config, run the reads once; -t does not read the
// file at all in 5.12) and compares: both accept and give the <Module>
// block the same tree, or both refuse.
func TestCrossCheckCollectd(t *testing.T) {
	bin := realCollectd(t)
	tests := []struct {
		name, body string
		reject     bool
	}{
		{"strings", `A "quoted \"x\" \\ y" bare "a#b" "multi` + "\n" + `line"`, false},
		{"numbers", `A 42 -1.5 +5 .5 0x10 0X1f 010 08 1e3 1.5e3 1.5e+3 -0x10 1.2.3`, false},
		{"booleans", `A true false yes no on off True FALSE "true"`, false},
		{"skipped characters", `A foo-bar a=b a.b a:b a;b a,b %x @y`, false},
		{"addresses", `A 127.0.0.1 1.1.1.1:65535 1.1.1.1:65536 1.1.1.1:080 300.1.1.1 ::1 fe80::1 [::1]:80 12345::1 1:2`, false},
		{"comments", "A a # c\nB \"#\" #", false},
		{"continuation", "A a \\\n b\nB \"x\\\ny\"\nC ab\\\ncd", false},
		{"crlf", "A 1\r\nB 2\r", false},
		{"blocks", "<S \"x\" 1>\n D 1\n <T>\n  E e\n </T>\n</S>\n< U u >\n< / U >\n<V>\n</V>", false},
		{"include is an option here", `Include "/nonexistent.conf"`, false},
		{"no value", "A", true},
		{"slash", "A /x", true},
		{"number key", "1 a", true},
		{"quoted key", `"A" b`, true},
		{"wrong case close", "<S a>\n</s>", true},
		{"close with value", "<S a>\n</S a>", true},
		{"same line", "<S a> A 1\n</S>", true},
		{"self closing", "<S a/>", true},
		{"unclosed quote is skipped", "A \"abc", false},
		{"unclosed quote then slash", "A \"abc/x", true},
	}
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "dumpcfg.py"), []byte(dumpPlugin), 0o644))
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			conf := filepath.Join(dir, "c"+string(rune('a'+i))+".conf")
			dump := conf + ".json"
			src := "LoadPlugin python\n<Plugin python>\n  ModulePath \"" + dir + "\"\n  Import \"dumpcfg\"\n  <Module dumpcfg>\n" + tt.body + "\n  </Module>\n</Plugin>\n"
			require.NoError(t, os.WriteFile(conf, []byte(src), 0o644))
			cmd := exec.Command(bin, "-T", "-C", conf)
			cmd.Env = []string{"PATH=/usr/sbin:/usr/bin:/bin", "DUMP=" + dump}
			out, runErr := cmd.CombinedOutput()
			real, _ := os.ReadFile(dump)

			cfg, err := Load(conf, Options{})
			if tt.reject {
				assert.Error(t, runErr, "collectd accepted it: %s", out)
				assert.Empty(t, real)
				require.Error(t, err)
				assert.Contains(t, err.Error(), conf+":")
				return
			}
			require.NoError(t, runErr, "collectd: %s", out)
			require.NoError(t, err)
			require.Len(t, cfg.Python.Items, 3)
			var want map[string]any
			require.NoError(t, json.Unmarshal(real, &want), "collectd wrote %q (%s)", real, out)
			assert.Equal(t, want, typedTree(t, cfg.Python.Items[2].Config))
		})
	}
}

// typedTree is n as the dump plugin writes a Config.
func typedTree(t *testing.T, n *Node) map[string]any {
	children := []any{}
	for _, c := range n.Children {
		children = append(children, typedTree(t, c))
	}
	b, err := json.Marshal(map[string]any{"key": n.Key, "values": typed(n.Values), "children": children})
	require.NoError(t, err)
	var m map[string]any
	require.NoError(t, json.Unmarshal(b, &m))
	return m
}

// TestCrossCheckRelativePaths checks that relative ModulePath, TypesDB and
// Include resolve as collectd resolves them: against its working
// directory, neither the file's directory nor BaseDir.
func TestCrossCheckRelativePaths(t *testing.T) {
	bin := realCollectd(t)
	root := t.TempDir()
	for _, d := range []string{"cwd", "base", "cfg"} {
		write(t, root, map[string]string{
			d + "/rel.db":           "reltype value:GAUGE:0:U\n",
			d + "/mods/whereami.py": "import collectd, os\ndef init():\n    with open(os.environ['DUMP'], 'a') as f:\n        f.write(__file__ + '\\n')\ncollectd.register_init(init)\n",
			d + "/inc.conf":         "<Plugin python>\n  Import \"whereami\"\n</Plugin>\n",
		})
	}
	conf := filepath.Join(root, "cfg", "c.conf")
	write(t, root, map[string]string{"cfg/c.conf": "BaseDir \"" + filepath.Join(root, "base") + "\"\nTypesDB \"/usr/share/collectd/types.db\" \"rel.db\"\nLoadPlugin python\n<Plugin python>\n  ModulePath \"mods\"\n</Plugin>\nInclude \"inc.conf\"\n"})
	dump := filepath.Join(root, "dump")
	cmd := exec.Command(bin, "-T", "-C", conf)
	cmd.Dir = filepath.Join(root, "cwd")
	cmd.Env = []string{"PATH=/usr/sbin:/usr/bin:/bin", "DUMP=" + dump}
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)
	got, err := os.ReadFile(dump)
	require.NoError(t, err, "%s", out)
	assert.Equal(t, filepath.Join(root, "cwd", "mods", "whereami.py"), strings.TrimSpace(string(got)))

	cfg, err := Load(conf, Options{Dir: filepath.Join(root, "cwd")})
	require.NoError(t, err)
	assert.Equal(t, []string{"/usr/share/collectd/types.db", filepath.Join(root, "cwd", "rel.db")}, cfg.TypesDB)
	assert.Equal(t, []Item{{Kind: ItemModulePath, Path: filepath.Join(root, "cwd", "mods")}, {Kind: ItemImport, Module: "whereami"}}, cfg.Python.Items)
	assert.Equal(t, filepath.Join(root, "cwd", "inc.conf"), cfg.Files[1])
}

// valuesPlugin dispatches one gauge per read and writes the host and
// interval its write callback sees, as collectd filled them in.
const valuesPlugin = `import collectd, os

def read():
    collectd.Values(type="gauge", values=[1]).dispatch()

def write(v):
    with open(os.environ["DUMP"], "a") as f:
        f.write("%s\n%r\n" % (v.host, v.interval))

collectd.register_read(read)
collectd.register_write(write)
`

// TestCrossCheckGlobals compares the host name and interval the real
// collectd gives a plugin's values with what Load reads from the same
// globals, and which files both refuse.
func TestCrossCheckGlobals(t *testing.T) {
	bin := realCollectd(t)
	osHost, err := os.Hostname()
	require.NoError(t, err)
	tests := []struct {
		name, top string
		reject    bool
	}{
		{"none", "", false},
		{"hostname", `Hostname "abc"`, false},
		{"key case", `hOSTNAME abc`, false},
		{"number hostname", `Hostname 12`, false},
		{"float hostname", `Hostname 1.5`, false},
		{"bool hostname", `Hostname true`, false},
		{"empty hostname", `Hostname ""`, false},
		{"address hostname", `Hostname 127.0.0.1`, false},
		{"block form", "<Hostname x>\n</Hostname>", false},
		{"interval", `Interval 3`, false},
		{"string interval", `Interval "3"`, false},
		{"fraction", `Interval 0.5`, false},
		{"zero interval", `Interval 0`, false},
		{"negative interval", `Interval -1`, false},
		{"word interval", `Interval abc`, false},
		{"unit interval", `Interval "2s"`, false},
		{"plugin interval", "Interval 3\n<LoadPlugin python>\n  Interval 2\n</LoadPlugin>", false},
		{"unknown global", `Bogus 1`, false},
		{"two hostnames", `Hostname "a" "b"`, true},
		{"two intervals", `Interval 3 4`, true},
		{"two plugins", `LoadPlugin python python`, true},
	}
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "valsplug.py"), []byte(valuesPlugin), 0o644))
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			conf := filepath.Join(dir, "g"+string(rune('a'+i))+".conf")
			dump := conf + ".out"
			load := "LoadPlugin python\n"
			if strings.Contains(tt.top, "LoadPlugin") {
				load = ""
			}
			src := tt.top + "\n" + load + "<Plugin python>\n  ModulePath \"" + dir + "\"\n  Import \"valsplug\"\n</Plugin>\n"
			require.NoError(t, os.WriteFile(conf, []byte(src), 0o644))
			var (
				out    []byte
				runErr error
			)
			// collectd -T can shut its write threads down before they
			// write the read's value list ("1 value list was left"): run
			// it again then.
			for try := 0; try < 5; try++ {
				cmd := exec.Command(bin, "-T", "-C", conf)
				cmd.Env = []string{"PATH=/usr/sbin:/usr/bin:/bin", "DUMP=" + dump}
				out, runErr = cmd.CombinedOutput()
				if _, err := os.Stat(dump); err == nil || runErr != nil {
					break
				}
			}
			cfg, err := Load(conf, Options{})
			if tt.reject {
				assert.Error(t, runErr, "collectd accepted it: %s", out)
				require.Error(t, err)
				assert.Contains(t, err.Error(), conf+":1:")
				return
			}
			require.NoError(t, runErr, "collectd: %s", out)
			require.NoError(t, err)
			real, err := os.ReadFile(dump)
			require.NoError(t, err, "collectd: %s", out)
			lines := strings.Split(strings.TrimSpace(string(real)), "\n")
			require.Len(t, lines, 2, "%q", real)
			host := cfg.Hostname
			if host == "" {
				host = osHost // FQDNLookup gives the same name on a host without a domain
			}
			assert.Equal(t, lines[0], host)
			interval := cfg.Python.Interval
			if interval == 0 {
				interval = cfg.Interval
			}
			if interval == 0 {
				interval = 10 * time.Second
			}
			assert.Equal(t, lines[1], strconv.FormatFloat(interval.Seconds(), 'f', -1, 64)+suffix(interval))
		})
	}
}

// suffix makes a whole number of seconds print as Python's repr of a
// float does (10.0).
func suffix(d time.Duration) string {
	if d%time.Second == 0 {
		return ".0"
	}
	return ""
}

// TestCrossCheckInclude compares the files the real collectd includes,
// and their order, with Load's: a directory recursively (dot files
// skipped), a pattern, the block form's Filter (which selects files, not
// directories), a relative path (against the working directory), and a
// missing file, which both only log.
func TestCrossCheckInclude(t *testing.T) {
	bin := realCollectd(t)
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "dumpcfg.py"), []byte(dumpPlugin), 0o644))
	mod := func(name string) string {
		return "<Plugin python>\n  <Module dumpcfg>\n    From \"" + name + "\"\n  </Module>\n</Plugin>\n"
	}
	files := map[string]string{
		"main.conf": "LoadPlugin python\n<Plugin python>\n  ModulePath \"" + dir + "\"\n  Import \"dumpcfg\"\n</Plugin>\n" +
			"Include \"part.conf\"\nInclude \"" + dir + "/d\"\nInclude \"" + dir + "/g/*.conf\"\n" +
			"<Include \"" + dir + "/f\">\n  Filter \"*.conf\"\n</Include>\nInclude \"" + dir + "/missing.conf\"\n",
		"part.conf":      mod("part"),
		"d/b.conf":       mod("d/b.conf"),
		"d/a.conf":       mod("d/a.conf"),
		"d/.hidden.conf": mod("d/.hidden.conf"),
		"d/sub/s.conf":   mod("d/sub/s.conf"),
		"d/z.txt":        mod("d/z.txt"),
		"d/c.conf~":      mod("d/c.conf~"),
		"d/B.conf":       mod("d/B.conf"),
		"g/2.conf":       mod("g/2.conf"),
		"g/10.conf":      mod("g/10.conf"),
		"g/3.txt":        mod("g/3.txt"),
		"f/x.conf":       mod("f/x.conf"),
		"f/README":       mod("f/README"),
		"f/deep/y.conf":  mod("f/deep/y.conf"),
		"f/e.conf":       "",
	}
	write(t, dir, files)
	dump := filepath.Join(dir, "dump.json")
	cmd := exec.Command(bin, "-T", "-C", filepath.Join(dir, "main.conf"))
	cmd.Dir = dir
	cmd.Env = []string{"PATH=/usr/sbin:/usr/bin:/bin", "DUMP=" + dump}
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)
	assert.Contains(t, string(out), "missing.conf")
	real, err := os.ReadFile(dump)
	require.NoError(t, err)
	var want []string
	for _, line := range strings.Split(strings.TrimSpace(string(real)), "\n") {
		var n struct {
			Children []struct {
				Values [][2]any `json:"values"`
			} `json:"children"`
		}
		require.NoError(t, json.Unmarshal([]byte(line), &n))
		want = append(want, n.Children[0].Values[0][1].(string))
	}

	cfg, err := Load(filepath.Join(dir, "main.conf"), Options{Dir: dir})
	require.NoError(t, err)
	var got []string
	for _, it := range cfg.Python.Items {
		if it.Kind == ItemModule {
			got = append(got, it.Config.Children[0].Values[0].(string))
		}
	}
	assert.Equal(t, want, got)
	require.Len(t, cfg.Warnings, 1)
	assert.Contains(t, cfg.Warnings[0].Error(), "missing.conf")
}
