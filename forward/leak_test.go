package forward

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the run when a goroutine outlives the tests: Run(ctx)
// must leave none behind once it returns.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
