package netdata

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/collectkit/collectkit/point"
)

const twoCharts = "CHART a.x\nDIMENSION d\nCHART a.y\nDIMENSION d\n"

func twoUpdates(v string) string {
	return "BEGIN a.x\nSET d = " + v + "\nEND\nBEGIN a.y\nSET d = " + v + "\nEND\n\n"
}

func TestReadBatchesAnUpdate(t *testing.T) {
	pr, pw := io.Pipe()
	e := New(Options{Now: func() time.Time { return t0 }})
	batches := make(chan []point.Point, 4)
	done := make(chan error, 1)
	go func() {
		done <- e.Read(context.Background(), pr, func(pts []point.Point) error {
			batches <- append([]point.Point(nil), pts...)
			return nil
		})
	}()
	for _, v := range []string{"1", "2"} {
		text := twoUpdates(v)
		if v == "1" {
			text = twoCharts + text
		}
		_, err := pw.Write([]byte(text))
		require.NoError(t, err)
		select {
		case b := <-batches:
			require.Len(t, b, 2)
			assert.Equal(t, "a.x", b[0].Name)
			assert.Equal(t, "a.y", b[1].Name)
			assert.Equal(t, t0, b[0].Time)
		case <-time.After(5 * time.Second):
			t.Fatal("no batch")
		}
	}
	require.NoError(t, pw.Close())
	require.NoError(t, <-done)
}

func TestReadErrorsAndEnd(t *testing.T) {
	var bad []error
	e := New(Options{MaxLineBytes: 40, OnError: func(err error) { bad = append(bad, err) }})
	text := twoCharts + "BOGUS\n" + strings.Repeat("x", 100000) + "\n" + "CHART a.z " + strings.Repeat("y", 30) + "\r\n" +
		twoUpdates("5") + "BEGIN a.x\nSET d = 6\nEND"
	var got []point.Point
	err := e.Read(context.Background(), strings.NewReader(text), func(pts []point.Point) error {
		got = append(got, pts...)
		return nil
	})
	require.NoError(t, err)
	require.Len(t, bad, 2, "%v", bad)
	assert.ErrorIs(t, bad[0], ErrUnknownCommand)
	assert.ErrorIs(t, bad[1], ErrLineTooLong)
	var le *LineError
	require.True(t, errors.As(bad[1], &le))
	assert.Equal(t, 6, le.Line)
	require.Len(t, got, 3, "the last line lacks its newline and still counts")
	assert.Contains(t, e.charts, "a.z", "a line of exactly MaxLineBytes before its CRLF is fine")
}

func TestReadDisable(t *testing.T) {
	e := New(Options{})
	var got int
	err := e.Read(context.Background(), strings.NewReader(twoCharts+twoUpdates("1")+"DISABLE\n"+twoUpdates("2")), func(pts []point.Point) error {
		got += len(pts)
		return nil
	})
	assert.ErrorIs(t, err, ErrDisabled)
	assert.Equal(t, 2, got, "points before DISABLE are emitted")
}

func TestReadEmitError(t *testing.T) {
	e := New(Options{})
	stop := errors.New("stop")
	err := e.Read(context.Background(), strings.NewReader(twoCharts+twoUpdates("1")), func([]point.Point) error { return stop })
	assert.ErrorIs(t, err, stop)
}

func TestReadContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	e := New(Options{})
	err := e.Read(ctx, strings.NewReader(twoCharts+twoUpdates("1")), func([]point.Point) error {
		cancel()
		return nil
	})
	assert.ErrorIs(t, err, context.Canceled)
}

type failReader struct{}

func (failReader) Read([]byte) (int, error) { return 0, errors.New("broken pipe") }

func TestReadError(t *testing.T) {
	e := New(Options{})
	err := e.Read(context.Background(), io.MultiReader(strings.NewReader("CHART a.b\n"), failReader{}), func([]point.Point) error { return nil })
	assert.ErrorContains(t, err, "broken pipe")
	assert.Contains(t, e.charts, "a.b")
}

func TestReadSkipsFunctionResults(t *testing.T) {
	var bad []error
	e := New(Options{MaxLineBytes: 50, OnError: func(err error) { bad = append(bad, err) }})
	text := twoCharts + "FUNCTION_RESULT_BEGIN tx 200 text/plain 0\n" + strings.Repeat("z", 70000) + "\n'x\nFUNCTION_RESULT_END\n" + twoUpdates("1")
	var got int
	require.NoError(t, e.Read(context.Background(), strings.NewReader(text), func(pts []point.Point) error {
		got += len(pts)
		return nil
	}))
	assert.Empty(t, bad)
	assert.Equal(t, 2, got)
}
