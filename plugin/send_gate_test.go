package plugin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestClientSendGate(t *testing.T) {
	big := json.RawMessage(fmt.Sprintf(`{"Allocation":{"Size":1},"Note":%q}`, strings.Repeat("x", 64<<10)))
	refused := errors.New("no longer allowed")
	cases := []struct {
		name   string
		props  json.RawMessage
		gate   error
		opened int32 // the gate refuses from this ask on
	}{
		{"open", cattleProps, nil, 0},
		{"refused", cattleProps, refused, 0},
		{"refused, a body larger than the write buffer", big, refused, 0},
		{"refused after its first part was sent", big, refused, 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
			defer cancel()
			path := filepath.Join(sockDir(t), "group")
			rec := serveRecorded(t, path, NewHandler(newFakeGroup(), DefaultServerOptions()))
			cl := NewClient(path, ClientOptions{})
			defer cl.Close()
			var asked atomic.Int32
			gated := WithSendGate(ctx, func(context.Context) error {
				if asked.Add(1) <= c.opened {
					return nil
				}
				return c.gate
			})

			_, err := cl.CommitGroup(gated, Spec{ID: "cattle", Properties: c.props}, false)
			require.Equal(t, 1, rec.count("Plugin.Implements"), "the handshake is not gated")
			require.Greater(t, asked.Load(), c.opened, "the gate was asked")
			if c.gate == nil {
				require.NoError(t, err)
				require.Equal(t, 1, rec.count("Group.CommitGroup"))
				return
			}
			require.ErrorIs(t, err, ErrNotSent)
			require.ErrorIs(t, err, refused)
			require.NotErrorIs(t, err, ErrUnreachable, "a refused request is not a transport failure")
			require.Zero(t, rec.count("Group.CommitGroup"), "no complete request reached the plugin")

			// The client stays usable: an ungated call goes through.
			_, err = cl.CommitGroup(ctx, Spec{ID: "cattle", Properties: c.props}, false)
			require.NoError(t, err)
			require.Equal(t, 1, rec.count("Group.CommitGroup"))
		})
	}
}
