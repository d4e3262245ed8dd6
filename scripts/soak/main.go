// Command soak runs the example agent as a child process under many
// concurrent writers of valid and hostile requests for a bounded time, and
// checks that it acknowledged exactly what it stored and stayed within a
// memory bound. It is not a test run by "go test ./..."; run it by hand
// (it needs Linux for /proc):
//
//	go run ./scripts/soak -duration 60s
//
// Each writer loops over a weighted mix of requests: valid line protocol
// (plain and gzip) and JSON, gzip bombs, oversize bodies, bodies that
// trickle in, garbage, Pushgateway samples with 16k labels, and 30 MiB
// /v1/lasterror posts. The agent writes what it accepts to -out files;
// after the run it is stopped with SIGTERM and the lines in the files are
// counted. It reports requests by kind and status, points acknowledged
// (lines of requests answered 2xx), points stored (lines in DIR/*.lp), and
// the agent's peak resident memory (VmHWM). It exits 1 if acknowledged and
// stored differ, the peak is over -max-rss, the agent does not exit 0, or
// no valid request was answered 2xx.
package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "soak:", err)
		os.Exit(1)
	}
}

type kind int

const (
	validLP kind = iota
	validLPGzip
	validJSON
	gzipBomb
	oversize
	slowBody
	garbage
	pushLabels
	lastError
	nKinds
)

var kindNames = [nKinds]string{"valid_lp", "valid_lp_gzip", "valid_json", "gzip_bomb", "oversize", "slow_body", "garbage", "push_labels", "lasterror_30m"}

// weights of the request mix, in percent.
var weights = [nKinds]int{33, 14, 14, 7, 6, 7, 12, 4, 3}

func (k kind) valid() bool { return k <= validJSON }

// tally counts outcomes per kind.
type tally struct {
	mu        sync.Mutex
	requests  [nKinds]int64
	status    [nKinds]map[string]int64
	acked     int64 // points of requests answered 2xx
	hostileOK int64 // hostile requests answered 2xx (their points are in acked when known)
	maxValid  time.Duration
}

func (t *tally) add(k kind, class string, points int64, took time.Duration) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.requests[k]++
	if t.status[k] == nil {
		t.status[k] = map[string]int64{}
	}
	t.status[k][class]++
	if class == "2xx" {
		t.acked += points
		if !k.valid() && k != lastError { // a lasterror post is accepted, truncated
			t.hostileOK++
		}
	}
	if k.valid() && took > t.maxValid {
		t.maxValid = took
	}
}

func run() error {
	duration := flag.Duration("duration", 60*time.Second, "how long the writers run")
	writers := flag.Int("writers", 32, "concurrent writers")
	agentBin := flag.String("agent", "", "agent `binary` (default: build ./examples/agent)")
	maxRSS := flag.Int64("max-rss", 512, "fail when the agent's peak RSS is over this many `MiB`")
	keep := flag.Bool("keep", false, "keep the work directory (agent log, -out files)")
	flag.Parse()

	work, err := os.MkdirTemp("", "soak-")
	if err != nil {
		return err
	}
	if *keep {
		fmt.Println("work directory:", work)
	} else {
		defer os.RemoveAll(work)
	}
	bin := *agentBin
	if bin == "" {
		bin = filepath.Join(work, "agent")
		out, err := exec.Command("go", "build", "-o", bin, "github.com/collectkit/collectkit/examples/agent").CombinedOutput()
		if err != nil {
			return fmt.Errorf("building the agent: %v\n%s", err, out)
		}
	}
	cfg := filepath.Join(work, "agent.toml")
	if err := os.WriteFile(cfg, []byte("listen = \"127.0.0.1:0\"\n"), 0o644); err != nil {
		return err
	}
	outDir := filepath.Join(work, "out")
	logFile, err := os.Create(filepath.Join(work, "agent.log"))
	if err != nil {
		return err
	}
	defer logFile.Close()

	bomb, bombLines := makeBomb()
	fmt.Printf("gzip bomb: %d bytes compressed, %d lines\n", len(bomb), bombLines)
	fix := fixtures{bomb: bomb, bombLines: bombLines, labels: makeLabels(16384), lastError: makeLastError(30 << 20)}

	cmd := exec.Command(bin, "-config", cfg, "-out", outDir)
	pr, pw := io.Pipe()
	cmd.Stderr = io.MultiWriter(logFile, pw)
	cmd.Stdout = logFile
	if err := cmd.Start(); err != nil {
		return err
	}
	defer func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	}()
	addr, err := waitListen(pr)
	if err != nil {
		return err
	}
	go func() { _, _ = io.Copy(io.Discard, pr) }()
	fmt.Printf("agent pid %d on %s; %d writers for %v\n", cmd.Process.Pid, addr, *writers, *duration)

	var peak atomic.Int64 // highest VmHWM seen, in KiB
	sampleDone := make(chan struct{})
	go func() {
		defer close(sampleDone)
		for cmd.ProcessState == nil {
			if v, ok := vmHWM(cmd.Process.Pid); ok && v > peak.Load() {
				peak.Store(v)
			}
			select {
			case <-time.After(200 * time.Millisecond):
			case <-sampleStop:
				return
			}
		}
	}()

	var t tally
	ctx, cancel := context.WithTimeout(context.Background(), *duration)
	defer cancel()
	tr := &http.Transport{MaxIdleConnsPerHost: *writers, DisableCompression: true}
	client := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	var wg sync.WaitGroup
	start := time.Now()
	for w := range *writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(w), uint64(time.Now().UnixNano())))
			for n := 0; ctx.Err() == nil; n++ {
				k := pick(r)
				req, points, cancelReq := build(k, r, addr, w, n, &fix)
				began := time.Now()
				resp, err := client.Do(req)
				class := "error"
				if err == nil {
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					class = fmt.Sprintf("%dxx", resp.StatusCode/100)
					if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusRequestEntityTooLarge || resp.StatusCode == http.StatusRequestTimeout {
						class = strconv.Itoa(resp.StatusCode)
					}
				} else if k == slowBody && ctxDone(req) {
					class = "client_gave_up"
				}
				cancelReq()
				t.add(k, class, points, time.Since(began))
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	if v, ok := vmHWM(cmd.Process.Pid); ok && v > peak.Load() {
		peak.Store(v)
	}
	close(sampleStop)
	<-sampleDone

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		return err
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	select {
	case <-exited:
	case <-time.After(30 * time.Second):
		_ = cmd.Process.Kill()
		<-exited
		return errors.New("the agent did not exit within 30s of SIGTERM")
	}
	_ = pw.Close()
	stored, err := countLines(outDir)
	if err != nil {
		return err
	}

	var total int64
	for k := range nKinds {
		total += t.requests[k]
	}
	fmt.Printf("\nran %v with %d writers\n", elapsed.Round(time.Millisecond), *writers)
	fmt.Printf("%-14s %9s  %s\n", "kind", "requests", "answers")
	for k := range nKinds {
		classes := make([]string, 0, len(t.status[k]))
		for c := range t.status[k] {
			classes = append(classes, c)
		}
		slices.Sort(classes)
		var parts []string
		for _, c := range classes {
			parts = append(parts, fmt.Sprintf("%s=%d", c, t.status[k][c]))
		}
		fmt.Printf("%-14s %9d  %s\n", kindNames[k], t.requests[k], strings.Join(parts, " "))
	}
	fmt.Printf("requests:            %d (%.0f/s)\n", total, float64(total)/elapsed.Seconds())
	fmt.Printf("points acknowledged: %d\n", t.acked)
	fmt.Printf("points stored:       %d\n", stored)
	fmt.Printf("hostile answered 2xx: %d\n", t.hostileOK)
	fmt.Printf("slowest valid answer: %v\n", t.maxValid.Round(time.Millisecond))
	fmt.Printf("agent peak RSS:      %.1f MiB (VmHWM)\n", float64(peak.Load())/1024)
	fmt.Printf("agent exit code:     %d\n", cmd.ProcessState.ExitCode())

	var fails []string
	if t.acked != stored {
		fails = append(fails, fmt.Sprintf("acknowledged %d != stored %d", t.acked, stored))
	}
	if peak.Load() > *maxRSS<<10 {
		fails = append(fails, fmt.Sprintf("peak RSS %.1f MiB over %d MiB", float64(peak.Load())/1024, *maxRSS))
	}
	if code := cmd.ProcessState.ExitCode(); code != 0 {
		fails = append(fails, fmt.Sprintf("agent exit code %d", code))
	}
	ok2xx := t.status[validLP]["2xx"] + t.status[validLPGzip]["2xx"] + t.status[validJSON]["2xx"]
	if ok2xx == 0 {
		fails = append(fails, "no valid request was answered 2xx")
	}
	if len(fails) > 0 {
		return errors.New(strings.Join(fails, "; "))
	}
	fmt.Println("PASS")
	return nil
}

var sampleStop = make(chan struct{})

func ctxDone(r *http.Request) bool { return r.Context().Err() != nil }

var listenRE = regexp.MustCompile(`msg="write API listening" addr=(\S+)`)

func waitListen(r io.Reader) (string, error) {
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			if m := listenRE.FindStringSubmatch(sc.Text()); m != nil {
				found <- m[1]
				_, _ = io.Copy(io.Discard, r)
				return
			}
		}
	}()
	select {
	case a := <-found:
		return a, nil
	case <-time.After(30 * time.Second):
		return "", errors.New("the agent did not log its listen address within 30s")
	}
}

// vmHWM returns the peak resident set of pid in KiB.
func vmHWM(pid int) (int64, bool) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, false
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmHWM:"); ok {
			n, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return n, err == nil
		}
	}
	return 0, false
}

func pick(r *rand.Rand) kind {
	n := r.IntN(100)
	for k := range nKinds {
		if n < weights[k] {
			return k
		}
		n -= weights[k]
	}
	return validLP
}

// build makes one request of kind k and returns how many points it
// carries (acknowledged if it is answered 2xx).
func build(k kind, r *rand.Rand, addr string, w, n int, fix *fixtures) (*http.Request, int64, context.CancelFunc) {
	cat := "metric"
	if r.IntN(4) == 0 {
		cat = "logging"
	}
	url := "http://" + addr + "/v1/write/" + cat
	ctx, cancel := context.WithCancel(context.Background())
	var (
		body    io.Reader
		ctype   string
		enc     string
		points  int64
		length  int64 = -1
		payload []byte
	)
	switch k {
	case validLP, validLPGzip:
		lines := 1 + r.IntN(2000)
		var b bytes.Buffer
		now := time.Now().UnixNano()
		for i := range lines {
			fmt.Fprintf(&b, "soak,writer=%d,req=%d,i=%d value=%di,ratio=%g %d\n", w, n, i, i, r.Float64(), now+int64(i))
		}
		payload, points = b.Bytes(), int64(lines)
		if k == validLPGzip {
			payload, enc = gzipBytes(payload, gzip.BestSpeed), "gzip"
		}
	case validJSON:
		elems := 1 + r.IntN(500)
		var b bytes.Buffer
		b.WriteByte('[')
		now := time.Now().UnixMilli()
		for i := range elems {
			if i > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, `{"measurement":"soak_json","tags":{"writer":"%d","req":"%d","i":"%d"},"fields":{"value":%d,"message":"m%d"},"time":%d}`, w, n, i, i, i, now)
		}
		b.WriteByte(']')
		payload, points, ctype = b.Bytes(), int64(elems), "application/json"
	case gzipBomb:
		payload, enc, points = fix.bomb, "gzip", fix.bombLines
	case oversize:
		length = 100 << 20
		body = &repeatReader{line: []byte("oversize,kind=plain value=1i\n"), left: length}
		points = length / int64(len("oversize,kind=plain value=1i\n"))
	case slowBody:
		// A byte every 100ms of a body that would take 20s; the client
		// gives up after 3s, so the agent never has the whole body (a
		// body that completes just before the client gives up could be
		// stored unacknowledged, which is allowed but not countable).
		body = &slowReader{data: bytes.Repeat([]byte("slow value=1i\n"), 15), every: 100 * time.Millisecond}
		cancel()
		ctx, cancel = context.WithTimeout(context.Background(), 3*time.Second)
	case garbage:
		switch r.IntN(3) {
		case 0: // random bytes, starting with a byte no line may start with
			payload = make([]byte, 1+r.IntN(64<<10))
			for i := range payload {
				payload[i] = byte(r.UintN(256))
			}
			payload[0] = ','
		case 1: // deeply nested JSON
			depth := 1 + r.IntN(100000)
			payload = append(bytes.Repeat([]byte("["), depth), bytes.Repeat([]byte("]"), depth)...)
			ctype = "application/json"
		default: // a gzip header over plain bytes
			payload = append([]byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff}, bytes.Repeat([]byte("x"), 1+r.IntN(1<<20))...)
			enc = "gzip"
		}
	case pushLabels:
		// One sample with 16k labels: quadratic in a naive parser.
		url = "http://" + addr + fmt.Sprintf("/metrics/job/soak%d", w)
		payload, ctype, points = fix.labels, "text/plain; version=0.0.4", 1
	case lastError:
		url = "http://" + addr + "/v1/lasterror"
		payload, ctype = fix.lastError, "application/json"
	}
	if payload != nil {
		body, length = bytes.NewReader(payload), int64(len(payload))
	}
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, url, body)
	if length >= 0 && payload == nil {
		req.ContentLength = length
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	if enc != "" {
		req.Header.Set("Content-Encoding", enc)
	}
	return req, points, cancel
}

// fixtures are the large request bodies, made once and shared.
type fixtures struct {
	bomb      []byte
	bombLines int64
	labels    []byte
	lastError []byte
}

// makeLabels returns a Pushgateway text body of one sample with n labels.
func makeLabels(n int) []byte {
	var b bytes.Buffer
	b.WriteString("soak_labels{")
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, "l%d=\"v\"", i)
	}
	b.WriteString("} 1\n")
	return b.Bytes()
}

// makeLastError returns a /v1/lasterror body whose err_content is n bytes.
func makeLastError(n int) []byte {
	return []byte(`{"input":"soak","source":"soak","err_content":"` + strings.Repeat("e", n) + `"}`)
}

// makeBomb compresses 133,000,000 bytes of "a v=1i\n" lines: the issue's
// reproduction (about 190 KB of gzip).
func makeBomb() ([]byte, int64) {
	const size = 133_000_000
	line := []byte("a v=1i\n")
	var b bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&b, gzip.BestCompression)
	_, _ = io.Copy(zw, &repeatReader{line: line, left: size})
	_ = zw.Close()
	return b.Bytes(), size / int64(len(line))
}

func gzipBytes(p []byte, level int) []byte {
	var b bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&b, level)
	_, _ = zw.Write(p)
	_ = zw.Close()
	return b.Bytes()
}

// repeatReader yields line over and over, left bytes in all.
type repeatReader struct {
	line []byte
	left int64
	off  int
}

func (r *repeatReader) Read(p []byte) (int, error) {
	if r.left <= 0 {
		return 0, io.EOF
	}
	n := 0
	for n < len(p) && r.left > 0 {
		c := copy(p[n:min(len(p), n+int(min(r.left, int64(len(r.line)-r.off))))], r.line[r.off:])
		n += c
		r.left -= int64(c)
		r.off = (r.off + c) % len(r.line)
	}
	return n, nil
}

// slowReader yields one byte of data per every.
type slowReader struct {
	data  []byte
	every time.Duration
}

func (s *slowReader) Read(p []byte) (int, error) {
	if len(s.data) == 0 {
		return 0, io.EOF
	}
	if len(p) == 0 {
		return 0, nil
	}
	time.Sleep(s.every)
	p[0] = s.data[0]
	s.data = s.data[1:]
	return 1, nil
}

// countLines counts the lines of every DIR/*.lp file.
func countLines(dir string) (int64, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.lp"))
	if err != nil {
		return 0, err
	}
	var n int64
	buf := make([]byte, 1<<20)
	for _, name := range files {
		f, err := os.Open(name)
		if err != nil {
			return 0, err
		}
		for {
			k, err := f.Read(buf)
			n += int64(bytes.Count(buf[:k], []byte{'\n'}))
			if err == io.EOF {
				break
			}
			if err != nil {
				f.Close()
				return 0, err
			}
		}
		f.Close()
	}
	return n, nil
}
