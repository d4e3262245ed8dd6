package httpapi_test

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/collectkit/collectkit/httpapi"
	"github.com/collectkit/collectkit/point"
)

// TestConcurrentWriters has 32 writers send 10,000 points each, in requests
// of 500, through one handler; every point must arrive exactly once.
func TestConcurrentWriters(t *testing.T) {
	const writers, perWriter, perRequest = 32, 10000, 500
	var mu sync.Mutex
	seen := make(map[[2]int64]int, writers*perWriter)
	count := point.SinkFunc(func(_ context.Context, b point.Batch) error {
		// Read the batch while it is lent to us; keep only the identity.
		keys := make([][2]int64, len(b.Points))
		for i, p := range b.Points {
			w, _ := p.Tag("w")
			wi, err := strconv.ParseInt(w, 10, 64)
			if err != nil {
				return err
			}
			seq, _ := p.Field("seq")
			keys[i] = [2]int64{wi, seq.Int()}
		}
		mu.Lock()
		for _, k := range keys {
			seen[k]++
		}
		mu.Unlock()
		return nil
	})
	h := newHandler(t, count, httpapi.Options{GlobalHostTags: map[string]string{"host": "h"}})

	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			buf := make([]byte, 0, perRequest*64)
			for start := 0; start < perWriter; start += perRequest {
				buf = buf[:0]
				for i := start; i < start+perRequest; i++ {
					buf = fmt.Appendf(buf, "m,w=%d seq=%di,v=1.5 %d\n", w, i, 1717243200000000000+int64(i))
				}
				rec := serve(h, request(http.MethodPost, "/v1/write/metric?precision=ns", buf))
				if rec.Code != http.StatusOK {
					errs <- fmt.Errorf("writer %d: status %d: %s", w, rec.Code, rec.Body.String())
					return
				}
			}
		}(w)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	require.Len(t, seen, writers*perWriter)
	for k, n := range seen {
		if n != 1 {
			assert.Equal(t, 1, n, "point %v", k)
		}
	}
}
