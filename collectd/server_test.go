package collectd

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/collectkit/collectkit/internal/testkit"
	"github.com/collectkit/collectkit/point"
	"github.com/collectkit/collectkit/point/pointtest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// startServer runs s on a free loopback port until the test ends and
// returns a UDP connection to it.
func startServer(t *testing.T, s *Server) net.Conn {
	t.Helper()
	if s.Addr == "" {
		s.Addr = "127.0.0.1:0"
	}
	ctx, cancel := context.WithCancel(context.Background())
	require.NoError(t, s.ListenPacket(ctx))
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			assert.NoError(t, err)
		case <-time.After(10 * time.Second):
			t.Error("Run did not return after cancel")
		}
	})
	c, err := net.Dial("udp", s.LocalAddr().String())
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	return c
}

func send(t *testing.T, c net.Conn, opts EncodeOptions, vls []ValueList, ns []Notification) {
	t.Helper()
	b, err := AppendPacket(nil, opts, vls, ns)
	require.NoError(t, err)
	_, err = c.Write(b)
	require.NoError(t, err)
}

func waitLen(t *testing.T, r *pointtest.Recorder, n int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	got, err := r.WaitLen(ctx, n)
	require.NoError(t, err, "%d of %d points", got, n)
}

func TestServer(t *testing.T) {
	var rec pointtest.Recorder
	var logs testkit.SyncBuffer
	c := startServer(t, &Server{TypesDB: testDB(t), Sink: &rec, Logger: slog.New(slog.NewTextHandler(&logs, nil))})

	ts := time.Unix(1700000000, 250_000_000)
	send(t, c, EncodeOptions{}, []ValueList{
		{Host: "h", Plugin: "interface", PluginInstance: "eth0", Type: "if_octets", Time: ts, Interval: 10 * time.Second,
			Values: []Value{DeriveValue(1), DeriveValue(2)}},
		{Host: "h", Plugin: "x", Type: "nosuch", Time: ts, Values: []Value{GaugeValue(1)}},
		{Host: "h", Plugin: "load", Type: "load", Time: ts, Values: []Value{GaugeValue(1), GaugeValue(2), GaugeValue(3)}},
	}, []Notification{{Host: "h", Plugin: "p", Type: "gauge", Severity: Warning, Message: "hot", Time: ts}})
	waitLen(t, &rec, 3)

	var metric, keyevent []point.Point
	for _, b := range rec.Batches() {
		assert.Equal(t, "collectd", b.Input)
		switch b.Category {
		case point.Metric:
			metric = append(metric, b.Points...)
		case point.KeyEvent:
			keyevent = append(keyevent, b.Points...)
		default:
			t.Errorf("category %v", b.Category)
		}
	}
	require.Len(t, metric, 2)
	assert.Equal(t, "interface,host=h,plugin_instance=eth0,type=if_octets rx=1i,tx=2i "+ts.Format(time.RFC3339Nano), strings.ReplaceAll(metric[0].String(), "rx=1,tx=2", "rx=1i,tx=2i"))
	assert.True(t, metric[0].Time.Equal(ts))
	assert.Equal(t, "load", metric[1].Name)
	require.Len(t, keyevent, 1)
	s, _ := keyevent[0].Field("df_status")
	assert.Equal(t, "warning", s.Str())
	assert.Contains(t, logs.String(), `type \"nosuch\" not in types.db`)
	assert.Contains(t, logs.String(), "source=127.0.0.1:")

	// A bad packet is logged with its source; the server goes on.
	_, err := c.Write([]byte{0, 6, 0, 200})
	require.NoError(t, err)
	send(t, c, EncodeOptions{}, []ValueList{{Host: "h", Plugin: "after", Type: "gauge", Values: []Value{GaugeValue(7)}}}, nil)
	waitLen(t, &rec, 4)
	pts := rec.Points()
	assert.Equal(t, "after", pts[len(pts)-1].Name)
	assert.True(t, pts[len(pts)-1].Time.IsZero(), "no time in the packet: the sink path fills it")
	assert.Contains(t, logs.String(), "bad network packet")
	assert.Contains(t, logs.String(), "length 200")
}

func TestServerSinkErrors(t *testing.T) {
	rec := &pointtest.Recorder{Err: point.Busy(errors.New("full"), time.Second)}
	var logs testkit.SyncBuffer
	c := startServer(t, &Server{TypesDB: testDB(t), Sink: rec, Logger: slog.New(slog.NewTextHandler(&logs, nil)), FlushDelay: -1})
	for i := 0; i < 3; i++ {
		send(t, c, EncodeOptions{}, []ValueList{{Plugin: "p", Type: "gauge", Values: []Value{GaugeValue(float64(i))}}}, nil)
	}
	waitLen(t, rec, 3)
	assert.True(t, waitFor(context.Background(), 5*time.Second, func() bool {
		return strings.Count(logs.String(), "sink refused points") == 3
	}), logs.String())
}

func TestServerBatching(t *testing.T) {
	var rec pointtest.Recorder
	c := startServer(t, &Server{TypesDB: testDB(t), Sink: &rec, MaxBatch: 10, FlushDelay: time.Hour})
	vls := make([]ValueList, 25)
	for i := range vls {
		vls[i] = ValueList{Plugin: "p", Type: "gauge", Values: []Value{GaugeValue(float64(i))}}
	}
	send(t, c, EncodeOptions{}, vls, nil)
	waitLen(t, &rec, 25)
	var sizes []int
	for _, b := range rec.Batches() {
		sizes = append(sizes, len(b.Points))
	}
	assert.Equal(t, []int{10, 10, 5}, sizes, "a full batch delivers what waits, MaxBatch points a Batch")
}

func TestServerSecurityLevel(t *testing.T) {
	var rec pointtest.Recorder
	var logs testkit.SyncBuffer
	c := startServer(t, &Server{TypesDB: testDB(t), Sink: &rec, SecurityLevel: Encrypt, Passwords: testPasswords,
		Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	vl := func(name string) []ValueList {
		return []ValueList{{Plugin: name, Type: "gauge", Values: []Value{GaugeValue(1)}}}
	}
	send(t, c, EncodeOptions{}, vl("plain"), nil)
	send(t, c, EncodeOptions{SecurityLevel: Sign, Username: "u", Password: "p"}, vl("signed"), nil)
	send(t, c, EncodeOptions{SecurityLevel: Encrypt, Username: "u", Password: "wrong"}, vl("badpass"), nil)
	send(t, c, EncodeOptions{SecurityLevel: Encrypt, Username: "u", Password: "p"}, vl("encrypted"), nil)
	waitLen(t, &rec, 1)
	time.Sleep(200 * time.Millisecond)
	pts := rec.Points()
	require.Len(t, pts, 1)
	assert.Equal(t, "encrypted", pts[0].Name)
	assert.Equal(t, 2, strings.Count(logs.String(), "below security level Encrypt"))
	assert.Contains(t, logs.String(), "decryption failed")
}

func TestServerListenErrors(t *testing.T) {
	s := &Server{Addr: "127.0.0.1:0", TypesDB: &TypesDB{}}
	require.NoError(t, s.ListenPacket(context.Background()))
	addr := s.LocalAddr().String()
	assert.Error(t, s.ListenPacket(context.Background()), "twice")

	err := (&Server{Addr: addr, TypesDB: &TypesDB{}}).Run(context.Background())
	assert.ErrorContains(t, err, "address already in use")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	assert.NoError(t, s.Run(ctx))
	assert.ErrorContains(t, s.Run(ctx), "already ran")
	assert.Nil(t, (&Server{}).LocalAddr())
}

// A real collectd sends to the server over its network plugin at each
// security level: every value list it dispatched arrives once.
func TestServerFromCollectd(t *testing.T) {
	requireCollectd(t)
	for _, level := range []SecurityLevel{None, Sign, Encrypt} {
		t.Run(level.String(), func(t *testing.T) {
			dir := t.TempDir()
			record := filepath.Join(dir, "record.txt")
			authFile := filepath.Join(dir, "passwd")
			require.NoError(t, os.WriteFile(authFile, []byte("u: p\n"), 0o600))

			var (
				mu      sync.Mutex
				arrived = map[string]int{}
				events  int
			)
			sink := point.SinkFunc(func(_ context.Context, b point.Batch) error {
				mu.Lock()
				defer mu.Unlock()
				for _, p := range b.Points {
					if p.Name != "netplug" {
						continue
					}
					if b.Category == point.KeyEvent {
						events++
						continue
					}
					host, _ := p.Tag("host")
					id := host + "/netplug"
					if pi, ok := p.Tag("plugin_instance"); ok {
						id += "-" + pi
					}
					typ, _ := p.Tag("type")
					id += "/" + typ
					first := p.Fields[0].Value
					arrived[fmt.Sprintf("%s %v", id, first.Any())]++
				}
				return nil
			})
			srv := &Server{SecurityLevel: level, Passwords: NewAuthFile(authFile), Sink: sink}
			_ = startServer(t, srv)

			conf := strings.NewReplacer("PORT", fmt.Sprint(srv.LocalAddr().(*net.UDPAddr).Port),
				"PLUGIN_DIR", absTestdata(t), "LEVEL", level.String(),
				`Import "write_http_plugin"`, `Import "network_plugin"`).
				Replace(string(readTestdata(t, "network.conf")))
			d := startCollectdEnv(t, conf, "COLLECTKIT_RECORD="+record)

			// Wait until the first three reads arrived whole.
			const perRead = 23
			ok := waitFor(context.Background(), 45*time.Second, func() bool {
				mu.Lock()
				defer mu.Unlock()
				n := 0
				for k := range arrived {
					if strings.HasSuffix(k, " 1") || strings.HasSuffix(k, " 2") || strings.HasSuffix(k, " 3") {
						n++
					}
				}
				return n >= 3*perRead-2 // load's first field is a float
			})
			require.True(t, ok, "three reads did not arrive within 45s")
			d.stop()
			time.Sleep(300 * time.Millisecond)

			recorded := readRecord(t, record)
			mu.Lock()
			defer mu.Unlock()
			for k, n := range arrived {
				assert.Equal(t, 1, n, "%s arrived %d times", k, n)
				_, ok := recorded[k]
				assert.True(t, ok, "%s arrived but was not dispatched", k)
			}
			missing := 0
			for k := range recorded {
				if _, ok := arrived[k]; !ok {
					missing++
				}
			}
			// collectd sends what it buffered when it stops, so nothing
			// is missing.
			t.Logf("%d value lists dispatched, %d arrived", len(recorded), len(arrived))
			assert.Zero(t, missing, "%d dispatched value lists never arrived", missing)
			assert.Positive(t, events, "notifications arrive as keyevent points")
		})
	}
}

// readRecord reads the write callback's "identifier value" lines.
func readRecord(t *testing.T, path string) map[string]bool {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	m := map[string]bool{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k := sc.Text()
		assert.False(t, m[k], "%s dispatched twice", k)
		m[k] = true
	}
	return m
}

// Run leaves no goroutine behind.
func TestServerNoLeak(t *testing.T) {
	before := runtime.NumGoroutine()
	for i := 0; i < 5; i++ {
		s := &Server{Addr: "127.0.0.1:0", TypesDB: &TypesDB{}}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error)
		go func() { done <- s.Run(ctx) }()
		time.Sleep(20 * time.Millisecond)
		cancel()
		require.NoError(t, <-done)
	}
	assert.True(t, waitFor(context.Background(), 5*time.Second, func() bool { return runtime.NumGoroutine() <= before }),
		"%d goroutines before, %d after", before, runtime.NumGoroutine())
}
