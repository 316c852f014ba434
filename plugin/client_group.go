package plugin

import (
	"context"
	"errors"
	"fmt"
)

// handshake makes sure the plugin implements GroupInterface. Concurrent
// callers share one in-flight handshake; each waits at most until its own ctx
// is done.
func (c *Client) handshake(ctx context.Context) error {
	for {
		c.hsMu.Lock()
		if c.hsDone {
			err := c.hsErr
			c.hsMu.Unlock()
			return err
		}
		if wait := c.hsWait; wait != nil {
			c.hsMu.Unlock()
			select {
			case <-wait:
				continue // finished: cached, or failed and ours to retry
			case <-ctx.Done():
				return c.transportError(ctx, ctx.Err())
			}
		}
		wait := make(chan struct{})
		c.hsWait = wait
		c.hsMu.Unlock()

		var resp ImplementsResponse
		err := c.call(ctx, "Plugin.Implements", ImplementsRequest{}, &resp)
		final := err == nil
		if final {
			err = checkImplements(resp.APIs)
		} else if !errors.Is(err, ErrUnreachable) {
			err = fmt.Errorf("%w: Plugin.Implements: %w", ErrHandshake, err)
		}
		c.hsMu.Lock()
		c.hsDone, c.hsErr, c.hsWait = final, err, nil
		c.hsMu.Unlock()
		close(wait)
		return err
	}
}

// checkImplements reports whether apis holds GroupInterface, with the
// original client's mismatch texts.
func checkImplements(apis []InterfaceSpec) error {
	for _, a := range apis {
		if a == GroupInterface {
			return nil
		}
	}
	for _, a := range apis {
		if a.Name == GroupInterface.Name {
			return &textError{kind: ErrHandshake, text: fmt.Sprintf(
				"Plugin supports %s interface version %s, client requires %s", a.Name, a.Version, GroupInterface.Version)}
		}
	}
	return &textError{kind: ErrHandshake, text: fmt.Sprintf("Plugin does not support interface %v", GroupInterface)}
}

// groupCall handshakes, then calls a Group method, all within one deadline.
func (c *Client) groupCall(ctx context.Context, method string, params, result any) error {
	ctx, cancel := c.withDeadline(ctx)
	defer cancel()
	if err := c.handshake(ctx); err != nil {
		return err
	}
	return c.call(ctx, method, params, result)
}

// CommitGroup calls Group.CommitGroup and returns the plugin's details.
func (c *Client) CommitGroup(ctx context.Context, spec Spec, pretend bool) (string, error) {
	var resp CommitGroupResponse
	if err := c.groupCall(ctx, "Group.CommitGroup", CommitGroupRequest{Spec: spec, Pretend: pretend}, &resp); err != nil {
		return "", err
	}
	return resp.Details, nil
}

// FreeGroup calls Group.FreeGroup.
func (c *Client) FreeGroup(ctx context.Context, id ID) error {
	return c.groupCall(ctx, "Group.FreeGroup", IDRequest{ID: id}, &OKResponse{})
}

// DescribeGroup calls Group.DescribeGroup.
func (c *Client) DescribeGroup(ctx context.Context, id ID) (Description, error) {
	var resp DescribeGroupResponse
	if err := c.groupCall(ctx, "Group.DescribeGroup", IDRequest{ID: id}, &resp); err != nil {
		return Description{}, err
	}
	return resp.Description, nil
}

// DestroyGroup calls Group.DestroyGroup.
func (c *Client) DestroyGroup(ctx context.Context, id ID) error {
	return c.groupCall(ctx, "Group.DestroyGroup", IDRequest{ID: id}, &OKResponse{})
}

// InspectGroups calls Group.InspectGroups; no groups gives a nil slice.
func (c *Client) InspectGroups(ctx context.Context) ([]Spec, error) {
	var resp InspectGroupsResponse
	if err := c.groupCall(ctx, "Group.InspectGroups", InspectGroupsRequest{}, &resp); err != nil {
		return nil, err
	}
	return resp.Groups, nil
}
