package constraint

import (
	"math"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/collectkit/collectkit/point"
)

// fuzzPoint builds a point from fuzz input: spec holds one tag or field per
// line, "t<key>=<value>" for a tag and "<kind><key>=<value>" for a field,
// kind being i (int), u (uint), f (float), s (string), b (bool), d (bytes)
// or n (nil).
func fuzzPoint(name, spec string) point.Point {
	p := point.Point{Name: name, Time: t0}
	for _, line := range strings.Split(spec, "\n") {
		if line == "" {
			continue
		}
		key, val, _ := strings.Cut(line[1:], "=")
		n := int64(len(val))
		switch line[0] {
		case 't':
			p.AddTag(key, val)
		case 'i':
			p.AddField(key, point.IntValue(-n))
		case 'u':
			p.AddField(key, point.UintValue(uint64(n)))
		case 'f':
			v := float64(n) / 3
			switch val {
			case "nan":
				v = nan()
			case "inf":
				v = inf(1)
			case "-inf":
				v = inf(-1)
			}
			p.AddField(key, point.FloatValue(v))
		case 'b':
			p.AddField(key, point.BoolValue(n%2 == 0))
		case 'd':
			p.AddField(key, point.BytesValue([]byte(val)))
		case 'n':
			p.AddField(key, point.Value{})
		default:
			p.AddField(key, point.StringValue(val))
		}
	}
	return p
}

// fuzzOptions derives options from two numbers: two bits of acts per rule
// pick its action (3 means Fix), and a non-zero lim picks small limits so
// that truncation and trimming happen.
func fuzzOptions(acts uint64, lim uint16) Options {
	var o Options
	if acts != 0 {
		o.Actions = map[Rule]Action{}
		for r := RuleUnknown + 1; r < numRules; r++ {
			a := Action(acts >> (2 * uint(r)) & 3)
			if a < numActions {
				o.Actions[r] = a
			}
		}
	}
	if lim != 0 {
		o.Limits = Limits{
			MaxTags:           1 + int(lim%4),
			MaxFields:         1 + int(lim/4%4),
			MaxKeyLen:         minKeyLen + int(lim/16%4),
			MaxTagValueLen:    minTagValueLen + int(lim/64%4),
			MaxFieldValueLen:  minFieldValueLen + int(lim/256%4),
			MaxMeasurementLen: minMeasurementLen + int(lim/1024%4),
		}
	}
	return o
}

func FuzzNormalize(f *testing.F) {
	f.Add("cpu", "thost=a\nfusage=1.5\niload=3", uint8(point.Metric), uint64(0), uint16(0))
	f.Add("", "ta.b=1\nsf.1=x\nnnil=\nfnan=nan", uint8(point.Logging), uint64(0), uint16(0))
	f.Add("obj", "ta=1\nta=2\nia=3\nsname=n", uint8(point.Object), uint64(0), uint16(0))
	f.Add("m\xff", "t\xfe=\xc3\nsk=a\xffb\nd\x80=\xff", uint8(point.CustomObject), uint64(0), uint16(0xffff))
	f.Add("#m\n\\", "tk\r=v\\\\\ntb\\=\x7f\nfx\t\\=1\nt\\=\\", uint8(point.Logging), uint64(0), uint16(0))
	f.Add("measurement_long_name", "tkey_longer_than=value_longer_than\ntb=1\ntc=2\nsz=€€€€\nsy=1\nsx=2", uint8(point.Logging), uint64(0x5555), uint16(1234))
	f.Fuzz(func(t *testing.T, name, spec string, cat uint8, acts uint64, lim uint16) {
		c := point.Category(cat%uint8(len(point.Categories())) + 1)
		opts := fuzzOptions(acts, lim)
		n := New(opts)
		in := fuzzPoint(name, spec)
		orig := in.Clone()
		require.Equal(t, n.compliant(&in, c), n.scan(&in, &n.plans[c]) == 0, "scan and the reference check disagree")
		p := in
		warns, err := n.Normalize(&p, c)
		require.True(t, orig.Equal(in), "input slices were written to")
		checkOwned(t, n, in, c, p, warns, err)
		if err != nil {
			require.ErrorIs(t, err, ErrRejected)
			require.True(t, orig.Equal(p), "a rejected point was changed")
			return
		}
		if len(warns) == 0 {
			require.True(t, orig.Equal(p), "changed without a warning")
		}

		again := p
		warns2, err := n.Normalize(&again, c)
		require.NoError(t, err, "the output is rejected: %v", p)
		require.Empty(t, warns2, "the output is not a fixed point: %v", p)
		require.True(t, p.Equal(again))

		checkLimits(t, n, &p, c)
	})
}

// checkLimits asserts that p obeys every rule n checks.
func checkLimits(t *testing.T, n *Normalizer, p *point.Point, c point.Category) {
	l := n.limits
	on := n.on
	if on(RuleMeasurement) {
		assert.NotEmpty(t, p.Name)
		assert.LessOrEqual(t, len(p.Name), l.MaxMeasurementLen)
	}
	if on(RuleUTF8) {
		assert.True(t, utf8.ValidString(p.Name))
	}
	if on(RuleUnsafeChars) {
		assert.True(t, safeForLP(p.Name) && !strings.HasPrefix(p.Name, "#"), "unsafe name %q", p.Name)
	}
	if on(RuleMaxTags) {
		assert.LessOrEqual(t, len(p.Tags), l.MaxTags)
	}
	if on(RuleMaxFields) {
		assert.LessOrEqual(t, len(p.Fields), l.MaxFields)
	}
	tagKeys := map[string]bool{}
	for _, tg := range p.Tags {
		checkKey(t, n, tg.Key, c)
		if on(RuleDuplicateKey) {
			assert.False(t, tagKeys[tg.Key], "duplicate tag %q", tg.Key)
		}
		tagKeys[tg.Key] = true
		if on(RuleTagValueLen) {
			assert.LessOrEqual(t, len(tg.Value), l.MaxTagValueLen)
		}
		if on(RuleUTF8) {
			assert.True(t, utf8.ValidString(tg.Value))
		}
		if on(RuleUnsafeChars) {
			assert.True(t, safeForLP(tg.Value), "unsafe tag value %q", tg.Value)
		}
	}
	fieldKeys := map[string]bool{}
	for _, fd := range p.Fields {
		checkKey(t, n, fd.Key, c)
		if on(RuleDuplicateKey) {
			assert.False(t, fieldKeys[fd.Key], "duplicate field %q", fd.Key)
		}
		fieldKeys[fd.Key] = true
		if on(RuleKeyConflict) {
			assert.False(t, tagKeys[fd.Key], "key %q is a tag and a field", fd.Key)
		}
		v := fd.Value
		switch v.Kind() {
		case point.KindInvalid:
			assert.False(t, on(RuleNilField))
		case point.KindFloat:
			if on(RuleNonFinite) {
				assert.False(t, v.Float() != v.Float() || v.Float()-v.Float() != 0, "non-finite %v", v)
			}
		case point.KindString, point.KindBytes:
			if c == point.Metric {
				assert.False(t, on(RuleStringField))
			}
			if on(RuleFieldValueLen) {
				assert.LessOrEqual(t, v.Len(), l.MaxFieldValueLen)
			}
			if v.Kind() == point.KindString && on(RuleUTF8) {
				assert.True(t, utf8.ValidString(v.Str()))
			}
			if v.Kind() == point.KindBytes && on(RuleUnsafeChars) {
				assert.True(t, utf8.ValidString(v.Str()), "bytes field %q is not valid UTF-8", v.Str())
			}
		}
	}
	if key, _, ok := n.requiredKey(c); ok {
		assert.True(t, tagKeys[key] || fieldKeys[key], "required key %q missing", key)
	}
}

func checkKey(t *testing.T, n *Normalizer, key string, c point.Category) {
	if n.on(RuleEmptyKey) {
		assert.NotEmpty(t, key)
	}
	if n.on(RuleKeyLen) {
		assert.LessOrEqual(t, len(key), n.limits.MaxKeyLen)
	}
	if c != point.Metric && n.on(RuleDotInKey) {
		assert.NotContains(t, key, ".")
	}
	if n.on(RuleUTF8) {
		assert.True(t, utf8.ValidString(key))
	}
	if n.on(RuleUnsafeChars) {
		assert.True(t, safeForLP(key), "unsafe key %q", key)
	}
}

func nan() float64      { return inf(1) - inf(1) }
func inf(s int) float64 { return math.Inf(s) }
