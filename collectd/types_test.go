package collectd

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// requireFile skips when path is missing, but fails under CI, which installs
// every program and file the tests use.
func requireFile(t testing.TB, path string) {
	t.Helper()
	if _, err := os.Stat(path); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is required under CI: %v", path, err)
		}
		t.Skipf("%s missing: %v", path, err)
	}
}

func TestDebianTypesDB(t *testing.T) {
	requireFile(t, DefaultTypesDB)
	db, err := LoadTypesDB()
	require.NoError(t, err)
	assert.Equal(t, 366, db.Len())

	counts := map[DSType]int{}
	for _, typ := range db.Types() {
		ds, _ := db.DataSet(typ)
		for _, s := range ds.Sources {
			counts[s.Type]++
		}
	}
	assert.Equal(t, map[DSType]int{Gauge: 229, Derive: 176, Counter: 13, Absolute: 1}, counts)

	ifo, ok := db.DataSet("if_octets")
	require.True(t, ok)
	require.Len(t, ifo.Sources, 2)
	for i, name := range []string{"rx", "tx"} {
		s := ifo.Sources[i]
		assert.Equal(t, name, s.Name)
		assert.Equal(t, Derive, s.Type)
		assert.Equal(t, 0.0, s.Min)
		assert.True(t, math.IsNaN(s.Max), "max U is NaN")
	}

	load, ok := db.DataSet("load")
	require.True(t, ok)
	require.Len(t, load.Sources, 3)
	for i, name := range []string{"shortterm", "midterm", "longterm"} {
		assert.Equal(t, DataSource{Name: name, Type: Gauge, Min: 0, Max: 5000}, load.Sources[i])
	}

	g, ok := db.DataSet("gauge")
	require.True(t, ok)
	require.Len(t, g.Sources, 1)
	assert.True(t, math.IsNaN(g.Sources[0].Min) && math.IsNaN(g.Sources[0].Max))
	ab, _ := db.DataSet("absolute")
	assert.Equal(t, Absolute, ab.Sources[0].Type)

	types := db.Types()
	assert.True(t, sortedStrings(types))
	assert.Len(t, types, 366)
}

func sortedStrings(s []string) bool {
	for i := 1; i < len(s); i++ {
		if s[i-1] >= s[i] {
			return false
		}
	}
	return true
}

func TestLoadTypesDBLaterReplaces(t *testing.T) {
	requireFile(t, DefaultTypesDB)
	db, err := LoadTypesDB(DefaultTypesDB, "testdata/custom_types.db")
	require.NoError(t, err)
	assert.Equal(t, 368, db.Len())
	load, _ := db.DataSet("load")
	assert.Equal(t, []DataSource{{Name: "value", Type: Gauge, Min: 0, Max: 100}}, load.Sources)
	tmp, ok := db.DataSet("my_temp")
	require.True(t, ok)
	assert.Equal(t, -273.15, tmp.Sources[0].Min)
	io, _ := db.DataSet("my_io")
	assert.Equal(t, "write", io.Sources[1].Name)

	// The other order: Debian's load wins.
	db, err = LoadTypesDB("testdata/custom_types.db", DefaultTypesDB)
	require.NoError(t, err)
	load, _ = db.DataSet("load")
	assert.Len(t, load.Sources, 3)
}

func TestParseTypesDB(t *testing.T) {
	in := "a value:GAUGE:U:U\n\n  # comment\n" +
		"b\tx:derive:0:10,y:Counter:U:1e3\r\n" +
		"c  p:ABSOLUTE:0:U , q:GAUGE:-1:1\n" +
		"a value:DERIVE:0:U\n"
	db, err := ParseTypesDB(strings.NewReader(in), "t.db")
	require.NoError(t, err)
	assert.Equal(t, []string{"a", "b", "c"}, db.Types())
	a, _ := db.DataSet("a")
	assert.Equal(t, Derive, a.Sources[0].Type, "a later line replaces an earlier one")
	b, _ := db.DataSet("b")
	assert.Equal(t, DataSource{Name: "x", Type: Derive, Min: 0, Max: 10}, b.Sources[0])
	assert.Equal(t, Counter, b.Sources[1].Type)
	assert.Equal(t, 1000.0, b.Sources[1].Max)
	c, _ := db.DataSet("c")
	assert.Len(t, c.Sources, 2)
}

func TestParseTypesDBErrors(t *testing.T) {
	tests := []struct {
		name, in string
		line     int
		want     string
	}{
		{"no sources", "ok value:GAUGE:U:U\nlonely\n", 2, `type "lonely" has no data sources`},
		{"three parts", "t value:GAUGE:U\n", 1, "want name:TYPE:min:max, got 3"},
		{"five parts", "t value:GAUGE:U:U:U\n", 1, "got 5"},
		{"bad type", "\n\nt value:FLOAT:U:U\n", 3, `type "FLOAT"`},
		{"bad min", "t value:GAUGE:x:U\n", 1, `min: "x" is neither a number nor U`},
		{"bad max", "t value:GAUGE:0:u\n", 1, `max: "u"`},
		{"empty name", "t :GAUGE:0:U\n", 1, "empty data source name"},
		{"duplicate ds", "t a:GAUGE:0:U a:GAUGE:0:U\n", 1, `"a" defined twice`},
		{"ds as type", "value:GAUGE:0:U\n", 1, "contains ':'"},
		{"second source", "t a:GAUGE:0:U, b:GAUGE\n", 1, `data source 2 "b:GAUGE"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db, err := ParseTypesDB(strings.NewReader(tt.in), "my.db")
			require.Error(t, err)
			assert.Nil(t, db)
			var te *TypesDBError
			require.ErrorAs(t, err, &te)
			assert.Equal(t, "my.db", te.File)
			assert.Equal(t, tt.line, te.Line)
			assert.Contains(t, err.Error(), tt.want)
			assert.True(t, strings.HasPrefix(err.Error(), "collectd: my.db:"), err.Error())
		})
	}
}

func TestParseTypesDBLongLine(t *testing.T) {
	in := "a value:GAUGE:U:U\nb " + strings.Repeat("x", maxTypesDBLine+10) + "\n"
	_, err := ParseTypesDB(strings.NewReader(in), "big.db")
	var te *TypesDBError
	require.ErrorAs(t, err, &te)
	assert.Equal(t, 2, te.Line)
	assert.Contains(t, err.Error(), "longer than")
}

func TestLoadTypesDBErrors(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "nope.db")

	_, err := LoadTypesDB(missing)
	require.ErrorIs(t, err, ErrNoTypesDB)
	assert.ErrorIs(t, err, fs.ErrNotExist)
	for _, s := range []string{"TypesDB", "types_db", "collectd-core", missing} {
		assert.Contains(t, err.Error(), s)
	}

	// A directory cannot be read as a file either.
	_, err = LoadTypesDB(dir)
	require.ErrorIs(t, err, ErrNoTypesDB)

	// One readable file, one missing: an error, but not "none".
	_, err = LoadTypesDB("testdata/custom_types.db", missing)
	require.Error(t, err)
	assert.False(t, errors.Is(err, ErrNoTypesDB))
	assert.Contains(t, err.Error(), missing)

	bad := filepath.Join(dir, "bad.db")
	require.NoError(t, os.WriteFile(bad, []byte("ok value:GAUGE:U:U\nbroken value:GAUGE\n"), 0o644))
	_, err = LoadTypesDB("testdata/custom_types.db", bad)
	var te *TypesDBError
	require.ErrorAs(t, err, &te)
	assert.Equal(t, bad, te.File)
	assert.Equal(t, 2, te.Line)
}

func TestTypesDBZeroAndNil(t *testing.T) {
	var nilDB *TypesDB
	assert.Equal(t, 0, nilDB.Len())
	assert.Nil(t, nilDB.Types())
	_, ok := nilDB.DataSet("gauge")
	assert.False(t, ok)

	var db TypesDB
	db.Add(DataSet{Type: "x", Sources: []DataSource{{Name: "value", Type: Gauge}}})
	db.Add(DataSet{Type: "x", Sources: []DataSource{{Name: "v2", Type: Derive}}})
	assert.Equal(t, 1, db.Len())
	x, _ := db.DataSet("x")
	assert.Equal(t, "v2", x.Sources[0].Name)
}

func TestDSType(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want DSType
	}{{"GAUGE", Gauge}, {"gauge", Gauge}, {"Derive", Derive}, {"COUNTER", Counter}, {"absolute", Absolute}} {
		got, err := ParseDSType(tt.in)
		require.NoError(t, err, tt.in)
		assert.Equal(t, tt.want, got)
		txt, err := got.MarshalText()
		require.NoError(t, err)
		var back DSType
		require.NoError(t, back.UnmarshalText(txt))
		assert.Equal(t, got, back)
	}
	assert.Equal(t, DSType(0), Counter)
	assert.Equal(t, DSType(1), Gauge)
	assert.Equal(t, DSType(2), Derive)
	assert.Equal(t, DSType(3), Absolute)
	_, err := ParseDSType("float")
	assert.ErrorContains(t, err, `"float"`)
	assert.Equal(t, "dstype(9)", DSType(9).String())
	_, err = DSType(9).MarshalText()
	assert.Error(t, err)
}

func TestSeverity(t *testing.T) {
	assert.Equal(t, "failure", Failure.String())
	assert.Equal(t, "okay", Okay.String())
	assert.Equal(t, "severity(0)", Severity(0).String())
	var s Severity
	require.NoError(t, s.UnmarshalText([]byte("WARNING")))
	assert.Equal(t, Warning, s)
	assert.Error(t, s.UnmarshalText([]byte("bad")))
}

func FuzzParseTypesDB(f *testing.F) {
	f.Add([]byte("if_octets rx:DERIVE:0:U, tx:DERIVE:0:U\n# c\nload a:GAUGE:0:5000 b:GAUGE:-1e3:U\n"))
	f.Add([]byte("x value:COUNTER:U:U\r\nx value:ABSOLUTE:0:U"))
	if b, err := os.ReadFile(DefaultTypesDB); err == nil {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		db, err := ParseTypesDB(bytes.NewReader(b), "f.db")
		if err != nil {
			var te *TypesDBError
			if !errors.As(err, &te) || te.Line < 1 {
				t.Fatalf("error without a line: %v", err)
			}
			return
		}
		// What parses prints back as types.db text that parses the same.
		var out strings.Builder
		for _, typ := range db.Types() {
			ds, _ := db.DataSet(typ)
			if len(ds.Sources) == 0 || typ == "" {
				t.Fatalf("type %q with %d sources", typ, len(ds.Sources))
			}
			out.WriteString(typ)
			for _, s := range ds.Sources {
				fmt.Fprintf(&out, " %s:%s:%s:%s", s.Name, strings.ToUpper(s.Type.String()), bound(s.Min), bound(s.Max))
			}
			out.WriteByte('\n')
		}
		db2, err := ParseTypesDB(strings.NewReader(out.String()), "again.db")
		if err != nil {
			t.Fatalf("re-parse of %q: %v", out.String(), err)
		}
		if db2.Len() != db.Len() {
			t.Fatalf("%d types, then %d", db.Len(), db2.Len())
		}
	})
}

func bound(f float64) string {
	if math.IsNaN(f) {
		return "U"
	}
	return strconv.FormatFloat(f, 'g', -1, 64)
}
