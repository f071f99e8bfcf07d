package store

import (
	"syscall"
	"time"
)

// tcpUserTimeoutOpt is TCP_USER_TIMEOUT (linux/tcp.h), which package syscall does not name.
const tcpUserTimeoutOpt = 0x12

// setUserTimeout sets TCP_USER_TIMEOUT on a TCP socket; a Unix socket has none to set.
func setUserTimeout(fd uintptr, d time.Duration) error {
	domain, err := syscall.GetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_DOMAIN)
	if err != nil || domain == syscall.AF_UNIX {
		return nil
	}
	return syscall.SetsockoptInt(int(fd), syscall.IPPROTO_TCP, tcpUserTimeoutOpt, int(d.Milliseconds()))
}
