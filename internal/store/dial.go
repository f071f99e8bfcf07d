package store

import (
	"context"
	"net"
	"syscall"
	"time"
)

// Dead-peer detection for PostgreSQL connections. statement_timeout is enforced by the server,
// so it cannot help when the server's host or its network is gone (an availability zone lost, a
// failover that leaves the old primary unreachable): a query sent on an established connection
// would wait for the kernel to give up, a quarter of an hour by default. Keepalives notice a
// silent peer of an idle or waiting connection, and (on Linux) TCP_USER_TIMEOUT drops a
// connection whose sent data stays unacknowledged, so such a call fails within seconds with
// EUNAVAILABLE and the pool dials again.
const (
	keepAliveIdle     = 15 * time.Second
	keepAliveInterval = 5 * time.Second
	keepAliveCount    = 3
	tcpUserTimeout    = 30 * time.Second
)

// dialer returns pgx's dial function: connect within timeout, with keepalives and, where the
// platform has it, TCP_USER_TIMEOUT.
func dialer(timeout time.Duration) func(ctx context.Context, network, addr string) (net.Conn, error) {
	d := &net.Dialer{
		Timeout: timeout,
		KeepAliveConfig: net.KeepAliveConfig{Enable: true, Idle: keepAliveIdle, Interval: keepAliveInterval,
			Count: keepAliveCount},
		Control: func(network, address string, c syscall.RawConn) error {
			var serr error
			if err := c.Control(func(fd uintptr) { serr = setUserTimeout(fd, tcpUserTimeout) }); err != nil {
				return err
			}
			return serr
		},
	}
	return d.DialContext
}
