package testbody

import (
	"math/rand/v2"
	"strconv"
	"strings"
)

// Lines is the number of points in every body this package generates.
const Lines = 10000

// start is the time of the first point, in nanoseconds since 1970.
const start = 1700000000 * 1000000000

type kind uint8

const (
	kFloat kind = iota
	kInt
	kString
	kBool
)

type field struct {
	key string
	k   kind
	f   float64
	i   int64
	s   string
	b   bool
}

type tag struct{ key, value string }

type pt struct {
	name   string
	tags   []tag
	fields []field
	ts     int64
}

var hosts = [...]string{"web01", "web02", "web03", "db01", "db02", "cache01", "edge-eu-1", "edge-us-2"}
var regions = [...]string{"eu-west", "us-east", "ap-south"}
var envs = [...]string{"prod", "staging"}

// points returns the Lines points, the same on every call.
func points() []pt {
	r := rand.New(rand.NewPCG(2024, 11))
	pts := make([]pt, Lines)
	for i := range pts {
		odd := i%100 == 42 // one point in 100 needs escaping
		host := hosts[r.IntN(len(hosts))]
		if odd {
			host = "web 01,rack=3"
		}
		p := pt{ts: start + int64(i)*1000000}
		base := []tag{{"host", host}, {"region", regions[r.IntN(len(regions))]}, {"env", envs[r.IntN(len(envs))]}}
		switch i % 6 {
		case 0:
			p.name = "cpu"
			p.tags = append(base, tag{"cpu", "cpu" + strconv.Itoa(r.IntN(16))})
			p.fields = []field{
				{key: "user", k: kFloat, f: round(r.Float64() * 100)},
				{key: "system", k: kFloat, f: round(r.Float64() * 30)},
				{key: "idle", k: kFloat, f: round(r.Float64() * 100)},
			}
		case 1:
			p.name = "mem"
			p.tags = base
			p.fields = []field{
				{key: "used", k: kInt, i: r.Int64N(64 << 30)},
				{key: "used_pct", k: kFloat, f: round(r.Float64() * 100)},
				{key: "swap", k: kBool, b: r.IntN(2) == 0},
			}
		case 2:
			p.name = "disk"
			p.tags = append(base, tag{"dev", "sd" + string(rune('a'+r.IntN(4)))})
			p.fields = []field{
				{key: "used", k: kInt, i: r.Int64N(500 << 30)},
				{key: "inodes", k: kInt, i: r.Int64N(1 << 24)},
				{key: "fstype", k: kString, s: "ext4"},
			}
		case 3:
			p.name = "net"
			p.tags = append(base, tag{"if", "eth" + strconv.Itoa(r.IntN(2))})
			p.fields = []field{
				{key: "recv", k: kInt, i: r.Int64N(1 << 40)},
				{key: "sent", k: kInt, i: r.Int64N(1 << 40)},
				{key: "up", k: kBool, b: true},
			}
		case 4:
			p.name = "nginx"
			p.tags = base
			p.fields = []field{
				{key: "requests", k: kInt, i: r.Int64N(1 << 30)},
				{key: "active", k: kInt, i: r.Int64N(5000)},
				{key: "status", k: kString, s: []string{"ok", "degraded"}[r.IntN(2)]},
			}
		default:
			p.name = "mysql"
			p.tags = append(base, tag{"server", "db" + strconv.Itoa(r.IntN(4))})
			p.fields = []field{
				{key: "queries", k: kInt, i: r.Int64N(1 << 34)},
				{key: "qps", k: kFloat, f: round(r.Float64() * 5000)},
				{key: "ro", k: kBool, b: false},
			}
		}
		if odd {
			p.fields = append(p.fields, field{key: "note", k: kString, s: "say \"hi\", path C:\\tmp\nnext line, café ✓"})
		}
		pts[i] = p
	}
	return pts
}

// round keeps two decimals, as real gauges usually have.
func round(f float64) float64 { return float64(int64(f*100)) / 100 }

// LineProtocol returns a line-protocol body of exactly Lines lines, each
// ending in '\n', with nanosecond timestamps.
func LineProtocol() []byte {
	buf := make([]byte, 0, 1<<20+1<<18)
	for _, p := range points() {
		buf = lpEscape(buf, p.name, ", ")
		for _, t := range p.tags {
			buf = append(buf, ',')
			buf = lpEscape(buf, t.key, ",= ")
			buf = append(buf, '=')
			buf = lpEscape(buf, t.value, ",= ")
		}
		for i, f := range p.fields {
			if i == 0 {
				buf = append(buf, ' ')
			} else {
				buf = append(buf, ',')
			}
			buf = lpEscape(buf, f.key, ",= ")
			buf = append(buf, '=')
			switch f.k {
			case kFloat:
				buf = strconv.AppendFloat(buf, f.f, 'f', -1, 64)
			case kInt:
				buf = strconv.AppendInt(buf, f.i, 10)
				buf = append(buf, 'i')
			case kBool:
				buf = strconv.AppendBool(buf, f.b)
			case kString:
				buf = append(buf, '"')
				s := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(f.s)
				buf = append(buf, s...)
				buf = append(buf, '"')
			}
		}
		buf = append(buf, ' ')
		buf = strconv.AppendInt(buf, p.ts, 10)
		buf = append(buf, '\n')
	}
	return buf
}

func lpEscape(dst []byte, s, special string) []byte {
	for i := 0; i < len(s); i++ {
		if strings.IndexByte(special, s[i]) >= 0 {
			dst = append(dst, '\\')
		}
		dst = append(dst, s[i])
	}
	return dst
}

// JSON returns the points of LineProtocol as a DataKit JSON array, one
// element per line of text, in the same order, with nanosecond "time"
// values. Integer fields are written as integer literals, so they decode
// as floats by default (DataKit's rule) and as integers when exact
// integers are asked for; floats always have a '.' or an exponent.
func JSON() []byte {
	buf := make([]byte, 0, 2<<20)
	buf = append(buf, "[\n"...)
	for n, p := range points() {
		if n > 0 {
			buf = append(buf, ",\n"...)
		}
		buf = append(buf, `{"measurement": `...)
		buf = strconv.AppendQuote(buf, p.name)
		buf = append(buf, `, "tags": {`...)
		for i, t := range p.tags {
			if i > 0 {
				buf = append(buf, ", "...)
			}
			buf = jsonString(buf, t.key)
			buf = append(buf, ": "...)
			buf = jsonString(buf, t.value)
		}
		buf = append(buf, `}, "fields": {`...)
		for i, f := range p.fields {
			if i > 0 {
				buf = append(buf, ", "...)
			}
			buf = jsonString(buf, f.key)
			buf = append(buf, ": "...)
			switch f.k {
			case kFloat:
				s := strconv.FormatFloat(f.f, 'f', -1, 64)
				if !strings.ContainsAny(s, ".e") {
					s += ".0"
				}
				buf = append(buf, s...)
			case kInt:
				buf = strconv.AppendInt(buf, f.i, 10)
			case kBool:
				buf = strconv.AppendBool(buf, f.b)
			case kString:
				buf = jsonString(buf, f.s)
			}
		}
		buf = append(buf, `}, "time": `...)
		buf = strconv.AppendInt(buf, p.ts, 10)
		buf = append(buf, '}')
	}
	return append(buf, "\n]\n"...)
}

// jsonString writes s as Python's json.dumps does by default: non-ASCII as
// \u escapes (surrogate pairs above the BMP).
func jsonString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			dst = append(dst, '\\', byte(r))
		case r == '\n':
			dst = append(dst, '\\', 'n')
		case r < 0x20 || r >= 0x80:
			if r >= 0x10000 {
				r -= 0x10000
				dst = appendU(dst, 0xd800+(r>>10))
				dst = appendU(dst, 0xdc00+(r&0x3ff))
			} else {
				dst = appendU(dst, r)
			}
		default:
			dst = append(dst, byte(r))
		}
	}
	return append(dst, '"')
}

func appendU(dst []byte, r rune) []byte {
	const hex = "0123456789abcdef"
	return append(dst, '\\', 'u', hex[r>>12&0xf], hex[r>>8&0xf], hex[r>>4&0xf], hex[r&0xf])
}
