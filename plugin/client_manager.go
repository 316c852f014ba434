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

// IsLeader looks the plugin up and calls Manager.IsLeader.
func (n *NamedClient) IsLeader(ctx context.Context) (leader bool, err error) {
	err = n.do(ctx, func(c *Client) (err error) { leader, err = c.IsLeader(ctx); return err })
	return leader, err
}

// LeaderLocation looks the plugin up and calls Manager.LeaderLocation.
func (n *NamedClient) LeaderLocation(ctx context.Context) (u *url.URL, err error) {
	err = n.do(ctx, func(c *Client) (err error) { u, err = c.LeaderLocation(ctx); return err })
	return u, err
}

// Status looks the plugin up and calls Manager.Status.
func (n *NamedClient) Status(ctx context.Context) (s ManagerStatus, err error) {
	err = n.do(ctx, func(c *Client) (err error) { s, err = c.Status(ctx); return err })
	return s, err
}

var _ Manager = (*NamedClient)(nil)
