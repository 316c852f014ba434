package plugin

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// IsLeader calls Manager.IsLeader. A plugin that is not a manager gives an
// error matching ErrNotManager.
func (c *Client) IsLeader(ctx context.Context) (bool, error) {
	var resp IsLeaderResponse
	if err := c.managerCall(ctx, "Manager.IsLeader", IsLeaderRequest{}, &resp); err != nil {
		return false, err
	}
	return resp.Leader, nil
}

// LeaderLocation calls Manager.LeaderLocation; nil when the manager does not
// know where the leader is.
func (c *Client) LeaderLocation(ctx context.Context) (*url.URL, error) {
	var resp LeaderLocationResponse
	if err := c.managerCall(ctx, "Manager.LeaderLocation", LeaderLocationRequest{}, &resp); err != nil {
		return nil, err
	}
	return resp.Location, nil
}

// Status calls Manager.Status.
func (c *Client) Status(ctx context.Context) (ManagerStatus, error) {
	var resp StatusResponse
	if err := c.managerCall(ctx, "Manager.Status", StatusRequest{}, &resp); err != nil {
		return ManagerStatus{}, err
	}
	return resp.Status, nil
}

var _ Manager = (*Client)(nil)

// managerCall is Call that turns "no such service" into ErrNotManager.
func (c *Client) managerCall(ctx context.Context, method string, params, result any) error {
	err := c.Call(ctx, method, params, result)
	var rpcErr *RPCError
	if errors.As(err, &rpcErr) && strings.HasPrefix(rpcErr.Message, "rpc: can't find service") {
		return fmt.Errorf("%w: %s answers no %s", ErrNotManager, c.path, method)
	}
	return err
}
