package plugin

import (
	"context"
	"testing"
	"time"
)

// stopTimeout bounds a test's Server.Stop: a connection that never goes
// idle fails the test with a deadline instead of hanging it. (Client calls
// need no such context: every call has the client's own Timeout.)
const stopTimeout = 30 * time.Second

// stopCtx is the context for a test's Server.Stop.
func stopCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), stopTimeout)
	t.Cleanup(cancel)
	return ctx
}
