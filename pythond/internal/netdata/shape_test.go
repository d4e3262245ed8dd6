package netdata

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/collectkit/collectkit/point"
)

// pythondTwoLines is what python.d.plugin 1.37 prints for the example
// module's job two_lines (name: "Two Lines"), first update.
const pythondTwoLines = `CHART example_Two_Lines.random '' 'A random number' 'random number' 'random' 'random' line 90000 1 '' 'python.d.plugin' 'example'
CLABEL '_collect_job' 'two_lines' '0'
CLABEL_COMMIT
DIMENSION 'random1' 'random1' absolute 1 1 ' '
DIMENSION 'random0' 'random0' absolute 1 1 ' '

BEGIN example_Two_Lines.random 0
SET 'random1' = 51
SET 'random0' = 52
END
`

func TestPointShape(t *testing.T) {
	e := New(Options{})
	pts, errs := feedAll(e, pythondTwoLines)
	require.Empty(t, errs)
	want := point.Point{
		Name: "random",
		Tags: []point.Tag{
			{Key: "job", Value: "Two_Lines"},
			{Key: "chart", Value: "example_Two_Lines.random"},
			{Key: "family", Value: "random"},
			{Key: "module", Value: "example"},
		},
		Fields: []point.Field{
			{Key: "random1", Value: point.FloatValue(51)},
			{Key: "random0", Value: point.FloatValue(52)},
		},
		Time: t0,
	}
	require.Len(t, pts, 1)
	assert.True(t, want.Equal(pts[0]), "got %v\nwant %v", pts[0], want)
}

func TestTags(t *testing.T) {
	tests := []struct {
		name     string
		opts     Options
		text     string
		wantName string
		wantTags string // k=v,... in order
		wantKeys string
	}{
		{
			name:     "no context: module.id; single-job type is the module",
			text:     "CHART example.random '' 'T' 'u' 'fam' '' line 1 1 '' 'python.d.plugin' 'example'\nDIMENSION a 'A name'\n",
			wantName: "example.random",
			wantTags: "job=example,chart=example.random,family=fam,module=example",
			wantKeys: "A name",
		},
		{
			name:     "no module parameter: Options.Module",
			opts:     Options{Module: "sensors", DimensionIDs: true},
			text:     "CHART sensors_local.temp '' 'T' 'u' '' '' line\nDIMENSION a 'A name'\n",
			wantName: "sensors.temp",
			wantTags: "job=local,chart=sensors_local.temp,module=sensors",
			wantKeys: "a",
		},
		{
			name:     "no module at all: the type is the module",
			text:     "CHART disk.sda 'name' 'T' 'u' 'sda' 'disk.io'\nDIMENSION a ''\n",
			wantName: "disk.io",
			wantTags: "job=disk,chart=disk.sda,family=sda,module=disk",
			wantKeys: "a",
		},
		{
			name:     "a type without the module prefix is the job",
			text:     "CHART other.c '' '' '' '' 'x.y' line 1 1 '' '' 'mod'\nDIMENSION a\n",
			wantName: "x.y",
			wantTags: "job=other,chart=other.c,module=mod",
			wantKeys: "a",
		},
		{
			name: "labels: _-prefixed and empty ones dropped, later commits merge",
			text: "CHART m_j.c '' '' '' 'f' '' line 1 1 '' '' 'm'\n" +
				"CLABEL '_collect_job' 'j' '0'\nCLABEL 'zone' \"eu west\" 1\nCLABEL 'empty' '' 1\nCLABEL_COMMIT\n" +
				"CLABEL 'rack' 'r1' 1\nCLABEL 'zone' 'us' 1\nCLABEL_COMMIT\nDIMENSION a\n",
			wantName: "m.c",
			wantTags: "job=j,chart=m_j.c,family=f,module=m,zone=us,rack=r1",
			wantKeys: "a",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := New(tt.opts)
			full := strings.Fields(strings.SplitN(tt.text, "\n", 2)[0])[1]
			pts, errs := feedAll(e, tt.text+"BEGIN "+full+"\nSET a = 1\nEND\n")
			require.Empty(t, errs)
			require.Len(t, pts, 1)
			assert.Equal(t, tt.wantName, pts[0].Name)
			var tags []string
			for _, tg := range pts[0].Tags {
				tags = append(tags, tg.Key+"="+tg.Value)
			}
			assert.Equal(t, tt.wantTags, strings.Join(tags, ","))
			require.Len(t, pts[0].Fields, 1)
			assert.Equal(t, tt.wantKeys, pts[0].Fields[0].Key)
		})
	}
}

// TestPointsAreTheCallers checks that a point's slices are not reused by
// later updates.
func TestPointsAreTheCallers(t *testing.T) {
	e := New(Options{})
	pts, errs := feedAll(e, pythondTwoLines, "BEGIN example_Two_Lines.random 1000000\nSET random1 = 7\nSET random0 = 8\nEND\n")
	require.Empty(t, errs)
	require.Len(t, pts, 2)
	pts[1].Tags[0].Value = "changed"
	assert.Equal(t, 51.0, pts[0].Fields[0].Value.Float())
	assert.Equal(t, 7.0, pts[1].Fields[0].Value.Float())
	assert.Equal(t, "Two_Lines", pts[0].Tags[0].Value)
	more, errs := feedAll(e, "BEGIN example_Two_Lines.random 1000000\nSET random1 = 9\nEND\n")
	require.Empty(t, errs)
	assert.Equal(t, "Two_Lines", more[0].Tags[0].Value)
	assert.Equal(t, 7.0, pts[1].Fields[0].Value.Float())
}

func TestChartLifecycle(t *testing.T) {
	const def = "CHART t.c '' '' '' '' '' line 1 1 '' '' 'm'\nDIMENSION a a incremental\nDIMENSION b\n"
	tests := []struct {
		name    string
		updates []string
		want    []map[string]float64
		errs    []error
	}{
		{
			name: "dynamic dimension added later (python.d re-sends the chart)",
			updates: []string{
				def + update(0, "a = 10", "b = 1"),
				def + "DIMENSION c c absolute 2 1\n" + update(1000000, "a = 20", "b = 2", "c = 3"),
			},
			want: []map[string]float64{{"b": 1}, {"a": 10, "b": 2, "c": 6}},
		},
		{
			name: "a redefined chart keeps its dimensions' last values",
			updates: []string{
				def + update(0, "a = 10"),
				"CHART t.c 'n' 'new title' 'u' 'f' 'ctx' line 2 1 '' '' 'm'\nDIMENSION a 'renamed' incremental 1 1\n" + update(1000000, "a = 15", "b = 4"),
			},
			want: []map[string]float64{{"renamed": 5, "b": 4}},
		},
		{
			name: "changing a dimension's algorithm forgets its last value",
			updates: []string{
				def + update(0, "a = 10"),
				"DIMENSION a a absolute\nDIMENSION a a incremental\n" + update(1000000, "a = 15"),
				update(1000000, "a = 16"),
			},
			want: []map[string]float64{{"a": 1}},
		},
		{
			name: "obsolete chart stops emitting until redefined",
			updates: []string{
				def + update(0, "a = 10", "b = 1"),
				"CHART t.c '' '' '' '' '' line 1 1 'hidden obsolete' '' 'm'\n" + update(1000000, "a = 20", "b = 2"),
				def + update(1000000, "a = 30", "b = 3"),
			},
			want: []map[string]float64{{"b": 1}, {"a": 10, "b": 3}},
		},
		{
			name: "obsolete dimension is removed",
			updates: []string{
				def + update(0, "a = 10", "b = 1"),
				"DIMENSION 'b' 'b' absolute 1 1 'hidden obsolete'\n" + update(1000000, "a = 20", "b = 2"),
				"DIMENSION b\n" + update(1000000, "a = 30", "b = 3"),
			},
			want: []map[string]float64{{"b": 1}, {"a": 10}, {"a": 10, "b": 3}},
			errs: []error{ErrUnknownDimension},
		},
		{
			name: "FLUSH drops the open update",
			updates: []string{
				def + update(0, "a = 10"),
				"BEGIN t.c 1000000\nSET a = 1000\nSET b = 5\nFLUSH\nEND\n",
				update(0, "a = 30"),
			},
			want: []map[string]float64{{"a": 10}},
			errs: []error{ErrNoChart},
		},
		{
			name: "BEGIN of an unknown chart drops its SETs and END quietly",
			updates: []string{
				def + "BEGIN t.nope\nSET a = 1\nEND\n" + update(0, "b = 1"),
			},
			want: []map[string]float64{{"b": 1}},
			errs: []error{ErrUnknownChart},
		},
		{
			name: "BEGIN before END drops the first update",
			updates: []string{
				def + "BEGIN t.c\nSET b = 1\n" + update(0, "b = 2"),
			},
			want: []map[string]float64{{"b": 2}},
			errs: []error{ErrSyntax},
		},
		{
			name: "VARIABLE and newer commands are ignored",
			updates: []string{
				def + "VARIABLE CHART 'x' = 5\nVARIABLE y = 1\nFUNCTION GLOBAL \"f\" 10 \"help\"\nCONFIG x\nHOST_DEFINE a b\nHOST_LABEL a b\nHOST_DEFINE_END\nHOST ''\n" +
					"FUNCTION_RESULT_BEGIN tx 200 application/json 0\nSET b = 99\nnot a command\n'unterminated\n" + strings.Repeat("x", DefaultMaxLineBytes+1) + "\nFUNCTION_RESULT_END\n" + update(0, "b = 7"),
			},
			want: []map[string]float64{{"b": 7}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := New(Options{})
			pts, errs := feedAll(e, tt.updates...)
			require.Len(t, errs, len(tt.errs), "%v", errs)
			for i := range errs {
				assert.ErrorIs(t, errs[i], tt.errs[i])
			}
			assert.Equal(t, tt.want, fieldsOf(pts))
		})
	}
}

func TestBadLines(t *testing.T) {
	const def = "CHART t.c '' '' '' '' '' line 1 1 '' '' 'm'\nDIMENSION a\n"
	tests := []struct {
		name    string
		pre     string
		line    string
		want    error
		command string
	}{
		{"unknown command", "", "HELLO world", ErrUnknownCommand, `"HELLO"`},
		{"lower-case command", "", "chart a.b", ErrUnknownCommand, `"chart"`},
		{"unterminated quote", "", "CHART 'a.b", ErrSyntax, "CHART"},
		{"chart without id", "", "CHART", ErrSyntax, "CHART"},
		{"chart id without type", "", "CHART abc", ErrBadValue, "CHART"},
		{"chart id with empty id", "", "CHART abc.", ErrBadValue, "CHART"},
		{"bad priority", "", "CHART a.b n t u f c line x", ErrBadValue, "CHART"},
		{"bad update_every", "", "CHART a.b n t u f c line 1 1.5", ErrBadValue, "CHART"},
		{"dimension before chart", "", "DIMENSION a", ErrNoChart, "DIMENSION"},
		{"dimension without id", def, "DIMENSION ''", ErrSyntax, "DIMENSION"},
		{"bad multiplier", def, "DIMENSION x x absolute 1.5", ErrBadValue, "DIMENSION"},
		{"bad divisor", def, "DIMENSION x x absolute 1 ten", ErrBadValue, "DIMENSION"},
		{"clabel without name", def, "CLABEL", ErrSyntax, "CLABEL"},
		{"commit before chart", "CLABEL a b 1\n", "CLABEL_COMMIT", ErrNoChart, "CLABEL_COMMIT"},
		{"begin without id", def, "BEGIN", ErrSyntax, "BEGIN"},
		{"begin unknown", def, "BEGIN t.x", ErrUnknownChart, "BEGIN"},
		{"begin bad micros", def, "BEGIN t.c abc", ErrBadValue, "BEGIN"},
		{"set outside begin", def, "SET a = 1", ErrNoChart, "SET"},
		{"set without =", def + "BEGIN t.c\n", "SET a 1", ErrSyntax, "SET"},
		{"set unknown dimension", def + "BEGIN t.c\n", "SET b = 1", ErrUnknownDimension, "SET"},
		{"set float", def + "BEGIN t.c\n", "SET a = 1.5", ErrBadValue, "SET"},
		{"set overflow", def + "BEGIN t.c\n", "SET a = 9223372036854775808", ErrBadValue, "SET"},
		{"end without begin", def, "END", ErrNoChart, "END"},
		{"line too long", "", "CHART a.b " + strings.Repeat("x", DefaultMaxLineBytes), ErrLineTooLong, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := New(Options{})
			_, errs := feedAll(e, tt.pre)
			require.Empty(t, errs)
			_, err := e.Feed(nil, []byte(tt.line+"\n"), t0)
			require.Error(t, err)
			assert.ErrorIs(t, err, tt.want)
			var le *LineError
			require.True(t, errors.As(err, &le))
			assert.Equal(t, e.Lines(), le.Line)
			assert.Equal(t, tt.command, le.Command)
			assert.Contains(t, err.Error(), "line ")
			// The engine goes on: a good chart still works afterwards.
			pts, errs := feedAll(e, "FLUSH\nCHART ok.c\nDIMENSION d\nBEGIN ok.c\nSET d = 3\nEND\n")
			require.Empty(t, errs)
			require.Len(t, pts, 1)
		})
	}
}

func TestLineErrorMessage(t *testing.T) {
	e := New(Options{})
	_, _ = e.Feed(nil, []byte("\n"), t0)
	_, err := e.Feed(nil, []byte("SET a = 1\n"), t0)
	assert.EqualError(t, err, "netdata: line 2: SET: no current chart: SET outside BEGIN ... END")
}

func TestDisable(t *testing.T) {
	e := New(Options{})
	_, err := e.Feed(nil, []byte("DISABLE\n"), t0)
	assert.ErrorIs(t, err, ErrDisabled)
}

func TestLimits(t *testing.T) {
	t.Run("charts", func(t *testing.T) {
		e := New(Options{MaxCharts: 2})
		_, errs := feedAll(e, "CHART a.a\nCHART a.b\nCHART a.a\nCHART a.c\n")
		require.Len(t, errs, 1)
		assert.ErrorIs(t, errs[0], ErrTooManyCharts)
		assert.Len(t, e.charts, 2)
	})
	t.Run("dimensions over all charts, obsolete ones freed", func(t *testing.T) {
		e := New(Options{MaxDimensions: 3})
		_, errs := feedAll(e, "CHART a.a\nDIMENSION x\nDIMENSION y\nCHART a.b\nDIMENSION x\nDIMENSION x\nDIMENSION z\n"+
			"DIMENSION x x absolute 1 1 obsolete\nDIMENSION z\n")
		require.Len(t, errs, 1)
		assert.ErrorIs(t, errs[0], ErrTooManyDimensions)
		assert.Equal(t, 3, e.ndims)
	})
	t.Run("labels", func(t *testing.T) {
		e := New(Options{MaxLabels: 2})
		_, errs := feedAll(e, "CHART a.a\nCLABEL a 1 1\nCLABEL b 1 1\nCLABEL c 1 1\nCLABEL_COMMIT\nCLABEL a 2 1\nCLABEL d 2 1\nCLABEL_COMMIT\n")
		require.Len(t, errs, 2)
		assert.ErrorIs(t, errs[0], ErrTooManyLabels)
		assert.ErrorIs(t, errs[1], ErrTooManyLabels)
		assert.Equal(t, []point.Tag{{Key: "a", Value: "2"}, {Key: "b", Value: "1"}}, e.charts["a.a"].labels)
	})
	t.Run("line length", func(t *testing.T) {
		e := New(Options{MaxLineBytes: 10})
		_, errs := feedAll(e, "CHART a.bc\r\nCHART a.bcd\n")
		require.Len(t, errs, 1)
		assert.ErrorIs(t, errs[0], ErrLineTooLong)
	})
	t.Run("no limits", func(t *testing.T) {
		e := New(Options{MaxLineBytes: -1, MaxCharts: -1, MaxDimensions: -1, MaxLabels: -1})
		var b strings.Builder
		for i := range 200 {
			b.WriteString("CHART a.c" + strings.Repeat("x", i*100) + "\nCLABEL l v 1\nDIMENSION d\n")
		}
		_, errs := feedAll(e, b.String())
		require.Empty(t, errs)
		assert.Len(t, e.charts, 200)
	})
}

func TestTimeIsTheBeginTime(t *testing.T) {
	e := New(Options{})
	var pts []point.Point
	for i, l := range []string{"CHART a.b\n", "DIMENSION d\n", "BEGIN a.b\n", "SET d = 1\n", "END\n"} {
		var err error
		pts, err = e.Feed(pts, []byte(l), t0.Add(time.Duration(i)*time.Minute))
		require.NoError(t, err)
	}
	require.Len(t, pts, 1)
	assert.Equal(t, t0.Add(2*time.Minute), pts[0].Time)
}

func TestObsoleteChartsMakeRoom(t *testing.T) {
	e := New(Options{MaxCharts: 2, MaxDimensions: 3})
	_, errs := feedAll(e, "CHART a.a\nDIMENSION x\nDIMENSION y\nCHART a.b\nDIMENSION x\n"+
		"CHART a.a '' '' '' '' '' line 1 1 obsolete\nCHART a.c\nDIMENSION x\nDIMENSION y\nDIMENSION z\n")
	require.Len(t, errs, 1)
	assert.ErrorIs(t, errs[0], ErrTooManyDimensions)
	assert.NotContains(t, e.charts, "a.a")
	assert.Len(t, e.charts["a.c"].dims, 2)
	assert.Equal(t, 3, e.ndims)
}

func TestFeedLines(t *testing.T) {
	e := New(Options{})
	text := pythondTwoLines + strings.Repeat("BOGUS\n", 12) + "BEGIN example_Two_Lines.random 1000000\nSET random1 = 1\nEND\nDISABLE\nBEGIN example_Two_Lines.random 1000000\nSET random1 = 2\nEND"
	pts, err := e.FeedLines(nil, []byte(text), t0)
	require.Len(t, pts, 2)
	assert.ErrorIs(t, err, ErrDisabled)
	assert.ErrorIs(t, err, ErrUnknownCommand)
	assert.Contains(t, err.Error(), "2 more bad lines")
	var le *LineError
	require.True(t, errors.As(err, &le))
	assert.Equal(t, 11, le.Line)

	pts, err = New(Options{}).FeedLines(nil, []byte("CHART a.b\nDIMENSION x\nBEGIN a.b\nSET x = 4\nEND"), t0)
	require.NoError(t, err)
	require.Len(t, pts, 1)
}
