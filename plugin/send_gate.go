package plugin

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"sync"
)

// sendGateKey carries a send gate in a context.
type sendGateKey struct{}

// WithSendGate returns ctx carrying gate. A Client asks gate while it
// writes a Group call's request (the handshake is not gated): at every read
// of the request body, each just before net/http writes the bytes read, so
// the last ask precedes the write that completes the request (the headers
// may be sent first). An error from gate stops the request before it is
// complete, so the plugin never acts on it, and the call fails with that
// error wrapped in ErrNotSent (not a TransportError). It is how a caller
// that must hold some right while the plugin acts (a leader's fresh
// confirmation) makes the check as late as the transport allows: a
// process frozen after an earlier check finds its right gone on waking,
// before the request leaves. gate must be safe for concurrent use and may
// block (bounded by its context: the call's).
func WithSendGate(ctx context.Context, gate func(context.Context) error) context.Context {
	return context.WithValue(ctx, sendGateKey{}, gate)
}

func sendGateFrom(ctx context.Context) func(context.Context) error {
	g, _ := ctx.Value(sendGateKey{}).(func(context.Context) error)
	return g
}

// gatedBody is a request body that asks its gate before every read. Its
// first refusal is kept: the transport's retries of the request (GetBody)
// are refused at once.
type gatedBody struct {
	ctx   context.Context
	gate  func(context.Context) error
	state *gateState
	r     *bytes.Reader
}

type gateState struct {
	mu  sync.Mutex
	err error
}

func (s *gateState) refused() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

func (b *gatedBody) Read(p []byte) (int, error) {
	if err := b.state.refused(); err != nil {
		return 0, err
	}
	if err := b.gate(b.ctx); err != nil {
		err = fmt.Errorf("%w: %w", ErrNotSent, err)
		b.state.mu.Lock()
		if b.state.err == nil {
			b.state.err = err
		}
		b.state.mu.Unlock()
		return 0, err
	}
	return b.r.Read(p)
}

func (b *gatedBody) Close() error { return nil }

// gatedRequestBody returns the body, and how to make it again, for a gated
// request: body is the encoded request.
func gatedRequestBody(ctx context.Context, gate func(context.Context) error, body []byte) (io.ReadCloser, func() (io.ReadCloser, error), *gateState) {
	st := &gateState{}
	mk := func() (io.ReadCloser, error) {
		return &gatedBody{ctx: ctx, gate: gate, state: st, r: bytes.NewReader(body)}, nil
	}
	rc, _ := mk()
	return rc, mk, st
}
