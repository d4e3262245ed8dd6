package pythond

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// Loopback fixtures for Debian's stock python.d modules, used in place from
// ndStockDir, and a way to run the real python.d.plugin on them.

const (
	ndNetdataDir  = "/usr/lib/netdata"
	ndStockDir    = ndNetdataDir + "/python.d"
	ndPluginsDir  = ndNetdataDir + "/plugins.d"
	ndRealPlugin  = ndPluginsDir + "/python.d.plugin"
	ndStockConfig = ndNetdataDir + "/conf.d"
	ndPython      = "/usr/bin/python3" // Debian's, which sees python3-yaml and python3-urllib3
)

// ndNeedNetdata skips (or fails under CI) when the real python.d.plugin and
// Debian's python are not installed.
func ndNeedNetdata(t *testing.T) {
	t.Helper()
	for _, p := range []string{ndRealPlugin, ndStockDir, ndPython} {
		if _, err := os.Stat(p); err != nil {
			msg := fmt.Sprintf("%s not found: install netdata-plugins-python (Debian) for the python.d comparison tests", p)
			if os.Getenv("CI") != "" {
				t.Fatal(msg)
			}
			t.Skip(msg)
		}
	}
}

// ndFixture is one stock module with what it needs to produce data.
type ndFixture struct {
	module string
	// service is the framework class the module builds on.
	service string
	// setup starts servers, writes files and scripts (under dir, fake
	// commands under bin) and returns the module's <module>.conf.
	setup func(t *testing.T, dir, bin string) string
	// charts that must get data under the real plugin (chart ids).
	charts []string
}

// ndFixtures lists the stock modules the differential tests run.
func ndFixtures() []ndFixture {
	return []ndFixture{
		{
			module:  "example",
			service: "SimpleService",
			setup: func(t *testing.T, dir, bin string) string {
				// lower == upper makes the random values deterministic.
				return "two_lines:\n  name: \"Two Lines\"\n  num_lines: 2\n  lower: 7\n  upper: 7\n" +
					"one:\n  num_lines: 1\n  lower: 3\n  upper: 3\n  priority: 70000\n"
			},
			charts: []string{"example_Two_Lines.random", "example_one.random"},
		},
		{
			module:  "exim",
			service: "ExecutableService",
			setup: func(t *testing.T, dir, bin string) string {
				ndScript(t, bin, "exim", `[ "$1" = "-bpc" ] || exit 2`+ndCounter+`echo $((6 + n))`)
				return "local:\n  update_every: 1\n"
			},
			charts: []string{"exim_local.qemails"},
		},
		{
			module:  "postfix",
			service: "ExecutableService",
			setup: func(t *testing.T, dir, bin string) string {
				ndScript(t, bin, "postqueue", `[ "$1" = "-p" ] || exit 2`+ndCounter+`
echo "-Queue ID-  --Size-- ----Arrival Time---- -Sender/Recipient-------"
echo "3F2A11C0A1     1234 Tue Dec  1 10:00:00  a@example.org"
echo "                                         b@example.org"
echo ""
echo "-- $((10 + 2 * n)) Kbytes in $n Requests."`)
				return "local:\n  update_every: 1\n"
			},
			charts: []string{"postfix_local.qemails", "postfix_local.qsize"},
		},
		{
			module:  "nsd",
			service: "ExecutableService",
			setup: func(t *testing.T, dir, bin string) string {
				ndScript(t, bin, "nsd-control", `[ "$1" = "stats_noreset" ] || exit 2`+ndCounter+`
cat <<EOF
num.queries=$((1500 + 100 * n))
zone.master=3
zone.slave=2
num.udp=$((1200 + 70 * n))
num.tcp=$((300 + 30 * n))
num.udp6=0
num.tcp6=0
num.type.A=1000
num.type.AAAA=400
num.type.MX=100
num.opcode.QUERY=1500
num.rcode.NOERROR=1450
num.rcode.NXDOMAIN=50
num.answer_wo_aa=0
num.rxerr=0
num.txerr=0
num.raxfr=0
num.truncated=0
num.dropped=0
zone.master=3
EOF`)
				// The module's own update_every = 30 would outlast the run.
				return "local:\n  update_every: 1\n"
			},
			charts: []string{"nsd_local.queries", "nsd_local.zones", "nsd_local.protocol", "nsd_local.type", "nsd_local.rcode"},
		},
		{
			module:  "go_expvar",
			service: "UrlService",
			setup: func(t *testing.T, dir, bin string) string {
				var n atomic.Int64
				srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					if r.URL.Path != "/debug/vars" {
						http.NotFound(w, r)
						return
					}
					w.Header().Set("Content-Type", "application/json")
					fmt.Fprintf(w, ndExpvarJSON, 16+n.Add(1))
				}))
				t.Cleanup(srv.Close)
				return "app:\n  name: app\n  url: " + srv.URL + "/debug/vars\n  collect_memstats: true\n" +
					"  extra_charts:\n" +
					"    - id: runtime_goroutines\n" +
					"      options:\n        name: num_goroutines\n        title: 'runtime: number of goroutines'\n        units: goroutines\n        family: runtime\n        context: expvar.runtime.goroutines\n        chart_type: line\n" +
					"      lines:\n        - {expvar_key: 'runtime.goroutines', expvar_type: int, id: runtime_goroutines}\n" +
					"    - id: temp\n" +
					"      options: {title: temperature, units: C}\n" +
					"      lines:\n        - {expvar_key: 'sensor.temp', expvar_type: float, id: temp, name: t}\n"
			},
			charts: []string{"go_expvar_app.memstats_heap", "go_expvar_app.memstats_sys", "go_expvar_app.memstats_gc_pauses", "go_expvar_app.runtime_goroutines", "go_expvar_app.temp"},
		},
		{
			module:  "fail2ban",
			service: "LogService",
			setup: func(t *testing.T, dir, bin string) string {
				log := filepath.Join(dir, "fail2ban.log")
				ndWrite(t, log, "2026-12-01 10:00:00,000 fail2ban.actions [1]: NOTICE [sshd] Ban 192.0.2.1\n")
				ndWrite(t, filepath.Join(dir, "jail.local"), "[sshd]\nenabled = true\n\n[nginx]\nenabled = true\n\n[off]\nenabled = false\n")
				require.NoError(t, os.MkdirAll(filepath.Join(dir, "jail.d"), 0o755))
				return "local:\n  log_path: " + log + "\n  conf_path: " + filepath.Join(dir, "jail.local") +
					"\n  conf_dir: " + filepath.Join(dir, "jail.d") + "\n"
			},
			charts: []string{"fail2ban_local.jails_failed_attempts", "fail2ban_local.jails_bans", "fail2ban_local.jails_banned_ips"},
		},
		{
			module:  "memcached",
			service: "SocketService",
			setup: func(t *testing.T, dir, bin string) string {
				addr := ndTCPServer(t, func(c net.Conn) {
					r := bufio.NewReader(c)
					for n := 1; ; n++ {
						line, err := r.ReadString('\n')
						if err != nil {
							return
						}
						if strings.TrimSpace(line) == "stats" {
							if _, err := fmt.Fprintf(c, ndMemcachedStats, 100+10*n, 40+n, 80+9*n, 100000+512*n, 200000+1024*n, 1048576+4096*n); err != nil {
								return
							}
						}
					}
				})
				host, port, _ := net.SplitHostPort(addr)
				return "local:\n  host: " + host + "\n  port: " + port + "\n"
			},
			charts: []string{"memcached_local.cache", "memcached_local.net", "memcached_local.connections", "memcached_local.items", "memcached_local.get", "memcached_local.evicted_reclaimed"},
		},
		{
			module:  "dovecot",
			service: "SocketService",
			setup: func(t *testing.T, dir, bin string) string {
				var n atomic.Int64
				addr := ndTCPServer(t, func(c net.Conn) {
					r := bufio.NewReader(c)
					line, err := r.ReadString('\n')
					if err != nil || line != "EXPORT\tglobal\r\n" {
						return
					}
					k := n.Add(1)
					fmt.Fprintf(c, ndDovecotExport, 300+7*k, 4096+1024*k, 8192+2048*k)
				})
				host, port, _ := net.SplitHostPort(addr)
				return "localhost:\n  name: local\n  host: " + host + "\n  port: " + port + "\n"
			},
			charts: []string{"dovecot_local.sessions", "dovecot_local.logins", "dovecot_local.commands", "dovecot_local.faults", "dovecot_local.context_switches", "dovecot_local.io", "dovecot_local.net", "dovecot_local.syscalls", "dovecot_local.lookup", "dovecot_local.cache", "dovecot_local.auth", "dovecot_local.auth_cache"},
		},
		{
			module:  "hddtemp",
			service: "SocketService",
			setup: func(t *testing.T, dir, bin string) string {
				var n atomic.Int64
				addr := ndTCPServer(t, func(c net.Conn) {
					fmt.Fprintf(c, "|/dev/sda|WDC WD10EZEX|%d|C||/dev/sdb|ST1000DM003|41|C||/dev/sdc|Samsung SSD|SLP|*|", 30+n.Add(1))
				})
				host, port, _ := net.SplitHostPort(addr)
				return "localhost:\n  name: local\n  host: " + host + "\n  port: " + port + "\n"
			},
			charts: []string{"hddtemp_local.temperatures"},
		},
		{
			module:  "squid",
			service: "SocketService",
			setup: func(t *testing.T, dir, bin string) string {
				var n atomic.Int64
				addr := ndTCPServer(t, func(c net.Conn) {
					r := bufio.NewReader(c)
					for {
						line, err := r.ReadString('\n')
						if err != nil {
							return
						}
						if line == "\r\n" {
							break
						}
					}
					k := n.Add(1)
					body := fmt.Sprintf("sample_time = 1480000000.5 (Tue, 01 Dec 2026 10:00:00 GMT)\n"+
						"client_http.requests = %d\nclient_http.hits = %d\nclient_http.errors = %d\n"+
						"client_http.kbytes_in = %d\nclient_http.kbytes_out = %d\nclient_http.hit_kbytes_out = %d\n"+
						"server.all.requests = %d\nserver.all.errors = %d\nserver.all.kbytes_in = %d\nserver.all.kbytes_out = %d\n"+
						"server.http.requests = 1\n",
						100+10*k, 60+6*k, 1+k%2, 500+50*k, 900+90*k, 300+30*k, 40+4*k, k%3, 700+70*k, 80+8*k)
					fmt.Fprintf(c, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n%x\r\n%s\r\n0\r\n\r\n", len(body), body)
				})
				host, port, _ := net.SplitHostPort(addr)
				// Two jobs with one name: the first cannot connect, so the
				// second serves "local" (python.d's autodetection by name).
				return "tcpclosed:\n  name: local\n  host: 127.0.0.1\n  port: " + ndClosedPort(t) +
					"\n  request: /squid-internal-mgr/counters\n" +
					"tcpfixture:\n  name: local\n  host: " + host + "\n  port: " + port +
					"\n  request: /squid-internal-mgr/counters\n"
			},
			charts: []string{"squid_local.clients_net", "squid_local.clients_requests", "squid_local.servers_net", "squid_local.servers_requests"},
		},
		{
			module:  "uwsgi",
			service: "SocketService",
			setup: func(t *testing.T, dir, bin string) string {
				var n atomic.Int64
				addr := ndTCPServer(t, func(c net.Conn) {
					k := n.Add(1)
					fmt.Fprintf(c, `{"version":"2.0.21","workers":[`+
						`{"id":1,"pid":101,"requests":%d,"tx":%d,"avg_rt":%d,"rss":%d,"vsz":%d,"exceptions":%d,"harakiri_count":0,"respawn_count":1},`+
						`{"id":2,"pid":102,"requests":%d,"tx":%d,"avg_rt":%d,"rss":%d,"vsz":%d,"exceptions":0,"harakiri_count":%d,"respawn_count":2}]}`,
						10*k, 1000*k, 500+k, 4096+k, 8192, k/2, 5*k, 700*k, 300, 2048+2*k, 8192, k/3)
				})
				host, port, _ := net.SplitHostPort(addr)
				return "local:\n  host: " + host + "\n  port: " + port + "\n"
			},
			charts: []string{"uwsgi_local.requests", "uwsgi_local.tx", "uwsgi_local.avg_rt", "uwsgi_local.memory_rss", "uwsgi_local.memory_vsz", "uwsgi_local.exceptions", "uwsgi_local.harakiri", "uwsgi_local.respawn"},
		},
	}
}

const ndExpvarJSON = `{"cmdline":["app"],"runtime":{"goroutines":%d},"sensor":{"temp":21.5},
"memstats":{"Alloc":1048576,"HeapAlloc":2097152,"HeapInuse":3145728,"StackInuse":524288,
"MSpanInuse":65536,"MCacheInuse":16384,"Sys":16777216,"Mallocs":5000,"Frees":3000,
"PauseNs":[100000,300000,0,0]}}`

const ndMemcachedStats = "STAT pid 1\r\nSTAT uptime 1000\r\nSTAT curr_connections 10\r\nSTAT total_connections 50\r\n" +
	"STAT connection_structures 11\r\nSTAT cmd_get %d\r\nSTAT cmd_set %d\r\nSTAT cmd_flush 0\r\nSTAT cmd_touch 3\r\n" +
	"STAT get_hits %d\r\nSTAT get_misses 20\r\nSTAT delete_misses 1\r\nSTAT delete_hits 2\r\nSTAT incr_misses 0\r\n" +
	"STAT incr_hits 5\r\nSTAT decr_misses 0\r\nSTAT decr_hits 4\r\nSTAT cas_misses 0\r\nSTAT cas_hits 1\r\n" +
	"STAT cas_badval 0\r\nSTAT touch_hits 2\r\nSTAT touch_misses 1\r\nSTAT bytes_read %d\r\nSTAT bytes_written %d\r\n" +
	"STAT limit_maxbytes 67108864\r\nSTAT threads 4\r\nSTAT bytes %d\r\nSTAT curr_items 120\r\nSTAT total_items 300\r\n" +
	"STAT evictions 7\r\nSTAT reclaimed 9\r\nEND\r\n"

const ndDovecotExport = "reset_timestamp\tlast_update\tnum_logins\tnum_cmds\tnum_connected_sessions\tuser_cpu\tsys_cpu\t" +
	"clock_time\tmin_faults\tmaj_faults\tvol_cs\tinvol_cs\tdisk_input\tdisk_output\tread_count\tread_bytes\t" +
	"write_count\twrite_bytes\tmail_lookup_path\tmail_lookup_attr\tmail_read_count\tmail_read_bytes\t" +
	"mail_cache_hits\tauth_successes\tauth_master_successes\tauth_failures\tauth_db_tempfails\tauth_cache_hits\tauth_cache_misses\n" +
	"1480000000\t1480000100.5\t20\t%d\t4\t1.5\t0.5\t10.0\t1000\t2\t500\t40\t%d\t%d\t700\t65536\t" +
	"600\t32768\t30\t40\t50\t2048\t60\t15\t1\t3\t0\t25\t5\n"

// ndCounter is a shell snippet that counts the script's runs in a file
// beside it and leaves the count (1, 2, ...) in $n, so values change with
// each update in the same way on both sides.
const ndCounter = `
c="$(dirname "$0")/.count-$(basename "$0")"
n=$(( $(cat "$c" 2>/dev/null || echo 0) + 1 ))
echo $n > "$c"
`

// ndClosedPort returns a loopback port nothing listens on.
func ndClosedPort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	require.NoError(t, ln.Close())
	return port
}

// ndScript writes an executable sh script bin/name.
func ndScript(t *testing.T, bin, name, body string) {
	t.Helper()
	p := filepath.Join(bin, name)
	require.NoError(t, os.WriteFile(p, []byte("#!/bin/sh\n"+body+"\n"), 0o755))
}

func ndWrite(t *testing.T, path, content string) {
	t.Helper()
	require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
	require.NoError(t, os.WriteFile(path, []byte(content), 0o644))
}

// ndTCPServer serves each connection with handle on a loopback port until
// the test ends, and returns host:port.
func ndTCPServer(t *testing.T, handle func(net.Conn)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				_ = c.SetDeadline(time.Now().Add(30 * time.Second))
				handle(c)
			}()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		<-done
	})
	return ln.Addr().String()
}

// ndEnv is a fixture's prepared run: a user config dir holding
// python.d.conf (enabling the module) and python.d/<module>.conf, a dir of
// fake commands, and the environment python.d.plugin expects.
type ndEnv struct {
	dir     string // user config dir (NETDATA_USER_CONFIG_DIR)
	confDir string // dir/python.d
	bin     string
	env     []string
}

func ndPrepare(t *testing.T, f ndFixture) ndEnv {
	t.Helper()
	root := t.TempDir()
	e := ndEnv{dir: filepath.Join(root, "etc"), bin: filepath.Join(root, "bin")}
	e.confDir = filepath.Join(e.dir, "python.d")
	for _, d := range []string{e.confDir, e.bin, filepath.Join(root, "lib"), filepath.Join(root, "lock"), filepath.Join(root, "data")} {
		require.NoError(t, os.MkdirAll(d, 0o755))
	}
	conf := f.setup(t, filepath.Join(root, "data"), e.bin)
	ndWrite(t, filepath.Join(e.confDir, f.module+".conf"), conf)
	// The stock python.d.conf disables some modules (example, go_expvar):
	// the user file overrides it key by key.
	pdconf := f.module + ": yes\n"
	ndWrite(t, filepath.Join(e.dir, "python.d.conf"), pdconf)
	ndWrite(t, filepath.Join(e.confDir, "python.d.conf"), pdconf)
	e.env = append(os.Environ(),
		"PATH="+e.bin+string(os.PathListSeparator)+os.Getenv("PATH"),
		"NETDATA_USER_CONFIG_DIR="+e.dir,
		"NETDATA_STOCK_CONFIG_DIR="+ndStockConfig,
		"NETDATA_PLUGINS_DIR="+ndPluginsDir,
		"NETDATA_USER_PLUGINS_DIRS=",
		"NETDATA_LIB_DIR="+filepath.Join(root, "lib"),
		"NETDATA_LOCK_DIR="+filepath.Join(root, "lock"),
		"NETDATA_UPDATE_EVERY=1",
		"NETDATA_INTERNALS_MONITORING=NO",
	)
	return e
}

// ndRunUntil runs cmd until each chart of want has begun rounds updates, or
// until timeout, then stops it, and returns its stdout; stderr goes to the
// test log when the test fails.
func ndRunUntil(t *testing.T, timeout time.Duration, want []string, rounds int, env []string, name string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = env
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = 3 * time.Second
	var stderr strings.Builder
	cmd.Stderr = &stderr
	pipe, err := cmd.StdoutPipe()
	if err != nil {
		t.Errorf("%s: %v", name, err)
		return ""
	}
	if err := cmd.Start(); err != nil {
		t.Errorf("%s: %v", name, err)
		return ""
	}
	var stdout strings.Builder
	begun := map[string]int{}
	sc := bufio.NewScanner(pipe)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		stdout.WriteString(line)
		stdout.WriteByte('\n')
		if w := strings.Fields(line); len(w) >= 2 && w[0] == "BEGIN" {
			begun[w[1]]++
			if ndAllBegun(begun, want, rounds) {
				cancel()
			}
		}
	}
	err = cmd.Wait()
	if ctx.Err() == nil && err != nil {
		t.Logf("%s exited early: %v", name, err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("stderr of %s %v:\n%s", name, args, stderr.String())
		}
	})
	return stdout.String()
}

func ndAllBegun(begun map[string]int, want []string, rounds int) bool {
	for _, id := range want {
		if begun[id] < rounds {
			return false
		}
	}
	return true
}

// ndRunReal runs the real python.d.plugin on the fixture's module.
func ndRunReal(t *testing.T, e ndEnv, f ndFixture) string {
	t.Helper()
	return ndRunUntil(t, ndRunTimeout, f.charts, ndRounds, e.env, ndPython, ndRealPlugin, "1", f.module)
}

// Each side runs until every expected chart has had ndRounds updates, or
// for ndRunTimeout at most (python.d.plugin alone takes 2 s to start).
const (
	ndRounds     = 4
	ndRunTimeout = 30 * time.Second
)
