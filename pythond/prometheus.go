package pythond

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/collectkit/collectkit/point"
	"github.com/collectkit/collectkit/protocol"
)

// The prometheus room: programs written with prometheus_client (the
// interpreter's own, such as Debian's python3-prometheus-client) run
// unchanged, each .py file of Dirs as __main__ in a process of its own
// (py/runtime/run_prometheus.py, sys.path folder py/prometheus, whose
// hooks are installed into prometheus_client before the program runs).
// What the program serves with start_http_server, start_wsgi_server or
// make_wsgi_app is collected in-process every interval and sent as an
// OpenMetrics body (X frames); what it pushes with push_to_gateway,
// pushadd_to_gateway or delete_from_gateway comes as the Pushgateway
// would receive it (U frames: method, path, text 0.0.4 body), wherever
// the program meant to push; write_to_textfile still writes its file and
// sends the registry once (an X frame). Both become metric points by
// protocol.DecodeExposition.

// PrometheusOptions are the options of framework prometheus beside the
// shared ones: args (NetdataPluginOptions.Args), the argv of every
// script after its path, and interval (CollectdOptions.Interval), how
// often each process's registries are collected, zero meaning
// DefaultPrometheusInterval.
type PrometheusOptions struct {
	// Serve, when false, makes start_http_server and start_wsgi_server
	// bind no port (they return None): the host still collects the
	// registries. Nil means true: the servers start as they would
	// outside collectkit, so the ports work as before.
	Serve *bool `toml:"serve"`
}

// DefaultPrometheusInterval is how often a prometheus input's registries
// are collected when Interval is zero, and the period at which a script
// that exits with status 0 (a batch job) runs.
const DefaultPrometheusInterval = 15 * time.Second

// Frame kinds of the prometheus runner (see internal/wire/FORMAT.md).
const (
	promKindExposition = 'X'
	promKindPush       = 'U'
)

// prometheusRunner and prometheusFolder are the runner and the sys.path
// folder of the framework, relative to the installed Python directory.
const (
	prometheusRunner = "runtime/run_prometheus.py"
	prometheusFolder = "prometheus"
)

var prometheusRoom = room{
	name:    "prometheus",
	options: []string{"args", "interval", "serve"},
	set: func(in *Input) []string {
		if in.Serve != nil {
			return []string{"serve"}
		}
		return nil
	},
	validate: validatePrometheus,
	start:    startPrometheus,
	scripts:  prometheusScripts,
	rerun:    func(in *resolvedInput) time.Duration { return in.promInterval() },
}

func validatePrometheus(in *Input, bad badFunc) {
	if in.Interval < 0 {
		bad("interval", "negative interval %s", in.Interval)
	}
	for i, a := range in.Args {
		if strings.ContainsRune(a, 0) {
			bad(fmt.Sprintf("args[%d]", i), "argument contains a NUL byte")
		}
	}
}

func (in Input) promInterval() time.Duration {
	if in.Interval > 0 {
		return time.Duration(in.Interval)
	}
	return DefaultPrometheusInterval
}

func (in Input) promServe() bool { return in.Serve == nil || *in.Serve }

// prometheusScripts lists the programs of in: every regular .py file of
// each dir, in name order, except __init__.py and names starting with
// "." or "_" (helper modules the programs import), and each dir that is
// a file. A file that is a symbolic link leading out of its dir is
// skipped and logged.
func prometheusScripts(in *resolvedInput) ([]string, error) {
	var scripts []string
	var errs []string
	for _, d := range in.dirs {
		fi, err := os.Stat(d)
		if err != nil {
			errs = append(errs, err.Error())
			continue
		}
		if !fi.IsDir() {
			scripts = append(scripts, d)
			continue
		}
		entries, err := os.ReadDir(d)
		if err != nil {
			errs = append(errs, err.Error())
			continue
		}
		top, err := filepath.EvalSymlinks(d)
		if err != nil {
			errs = append(errs, err.Error())
			continue
		}
		for _, e := range entries {
			name := e.Name()
			if !strings.HasSuffix(name, ".py") || name == "__init__.py" || name[0] == '.' || name[0] == '_' {
				continue
			}
			p := filepath.Join(d, name)
			real, err := filepath.EvalSymlinks(p)
			if err != nil {
				in.logger.Warn("prometheus script skipped", "script", p, "err", err)
				continue
			}
			if rel, err := filepath.Rel(top, real); err != nil || !filepath.IsLocal(rel) {
				in.logger.Warn("prometheus script skipped: a symbolic link out of its dir", "script", p, "target", real)
				continue
			}
			if fi, err := os.Stat(real); err != nil || !fi.Mode().IsRegular() {
				continue
			}
			scripts = append(scripts, p)
		}
	}
	// A file named twice (a dir and a file in it) runs once.
	same := map[string]bool{}
	scripts = slices.DeleteFunc(scripts, func(p string) bool {
		real, err := filepath.EvalSymlinks(p)
		if err != nil {
			real = p
		}
		dup := same[real]
		same[real] = true
		return dup
	})
	seen := map[string]string{}
	for _, p := range scripts {
		base := filepath.Base(p)
		if other, dup := seen[base]; dup {
			in.logger.Warn("two prometheus scripts have the same file name: their points have the same instance tag", "script", p, "other", other, "instance", base)
		}
		seen[base] = p
	}
	if len(scripts) == 0 {
		msg := "no .py file in " + strings.Join(in.dirs, ", ")
		if len(errs) > 0 {
			msg += ": " + strings.Join(errs, "; ")
		}
		return nil, fmt.Errorf("%s", msg)
	}
	return scripts, nil
}

func startPrometheus(_ context.Context, s *Supervisor, in *resolvedInput, pyDir string) (*launch, error) {
	args := []string{
		filepath.Join(pyDir, filepath.FromSlash(prometheusRunner)),
		"--name", in.Name,
		"--script", in.script,
		"--interval", strconv.FormatFloat(in.promInterval().Seconds(), 'g', -1, 64),
		"--framework-dir", filepath.Join(pyDir, prometheusFolder),
	}
	if !in.promServe() {
		args = append(args, "--no-serve")
	}
	args = append(args, "--")
	args = append(args, in.Args...)
	p := &promProcess{s: s, in: in, instance: filepath.Base(in.script)}
	p.labels = []point.Tag{{Key: "job", Value: in.Name}, {Key: "instance", Value: p.instance}}
	return &launch{
		Args:    args,
		Channel: true,
		Frames: map[byte]func(context.Context, []byte, []byte){
			promKindExposition: p.collected,
			promKindPush:       p.pushed,
		},
	}, nil
}

// promProcess turns the frames of one prometheus process into points.
// Its methods run on the process's frame goroutine only.
type promProcess struct {
	s        *Supervisor
	in       *resolvedInput
	instance string      // the script's file name
	labels   []point.Tag // job and instance
	pts      []point.Point
	tags     []point.Tag // slab of the relabelled tags
}

// collected delivers one registry's OpenMetrics exposition (meta: what
// serves it, such as "start_http_server:8000") as points with the
// sample's labels plus job (the input's name) and instance (the
// script's file name). A sample label named job or instance is kept as
// exported_job or exported_instance, as Prometheus scrapes do without
// honor_labels.
func (p *promProcess) collected(ctx context.Context, meta, payload []byte) {
	pts, _, err := protocol.DecodeExposition(p.pts[:0], payload, protocol.ExpositionOptions{Format: protocol.ExpositionOpenMetrics})
	if err != nil {
		p.refused(ctx, "collected metrics dropped", "source", string(meta), err)
		return
	}
	p.relabel(pts)
	_ = p.s.deliver(ctx, p.in, p.instance, point.Metric, pts)
	clear(pts)
	p.pts = pts[:0]
}

// pushed delivers a push (meta: method, path, gateway) as the
// Pushgateway route maps it: the body's samples with the grouping key of
// the path (job first) overriding labels of the same name, no
// timestamps allowed. A DELETE gives no points; it is logged.
func (p *promProcess) pushed(ctx context.Context, meta, payload []byte) {
	parts := bytes.Split(meta, []byte{0x1f})
	if len(parts) != 3 {
		p.in.logger.Warn("malformed push frame from the prometheus runner ignored", "script", p.instance)
		return
	}
	method, path, gateway := string(parts[0]), string(parts[1]), string(parts[2])
	key, err := protocol.ParsePushPath(path)
	if err != nil {
		p.refused(ctx, "push refused", "gateway", gateway, err)
		return
	}
	switch method {
	case "DELETE":
		p.in.logger.Info("push: delete_from_gateway (no points)", "script", p.instance, "gateway", gateway, "grouping_key", tagString(key))
		return
	case "PUT", "POST":
	default:
		p.refused(ctx, "push refused", "gateway", gateway, fmt.Errorf("method %q is not PUT, POST or DELETE", method))
		return
	}
	pts, _, err := protocol.DecodeExposition(p.pts[:0], payload, protocol.ExpositionOptions{
		Tags:             key,
		TagsOverride:     true,
		RejectTimestamps: true,
	})
	if err != nil {
		p.refused(ctx, "push refused", "gateway", gateway, err)
		return
	}
	_ = p.s.deliver(ctx, p.in, p.instance, point.Metric, pts)
	clear(pts)
	p.pts = pts[:0]
}

// refused logs and reports a body the host could not take.
func (p *promProcess) refused(ctx context.Context, msg, key, value string, err error) {
	p.in.logger.Warn(msg, "script", p.instance, key, value, "err", err)
	p.s.report(ctx, p.in, CollectorError{Name: p.in.Name, Input: p.in.Name, Collector: p.instance, Kind: KindReport, Message: err.Error()})
}

// relabel gives every point job and instance, renaming a sample label of
// either name exported_<name> (exported_exported_<name> if that is
// taken, and so on). The tags live in p's slab.
func (p *promProcess) relabel(pts []point.Point) {
	need := 0
	for i := range pts {
		need += len(pts[i].Tags) + len(p.labels)
	}
	slab := p.tags[:0]
	if cap(slab) < need {
		slab = make([]point.Tag, 0, need)
	}
	for i := range pts {
		pt := &pts[i]
		start := len(slab)
		for _, t := range pt.Tags {
			if hasTag(p.labels, t.Key) {
				k := t.Key
				for hasTag(p.labels, k) || hasTag(pt.Tags, k) {
					k = "exported_" + k
				}
				t.Key = k
			}
			slab = append(slab, t)
		}
		slab = append(slab, p.labels...)
		pt.Tags = slab[start:len(slab):len(slab)]
	}
	clear(slab[len(slab):cap(slab)])
	p.tags = slab
}

func hasTag(tags []point.Tag, key string) bool {
	return slices.ContainsFunc(tags, func(t point.Tag) bool { return t.Key == key })
}

// tagString writes tags as k=v,k=v for logs.
func tagString(tags []point.Tag) string {
	var b strings.Builder
	for i, t := range tags {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(t.Key)
		b.WriteByte('=')
		b.WriteString(t.Value)
	}
	return b.String()
}
