//go:build !linux

package store

import "time"

// setUserTimeout does nothing where TCP_USER_TIMEOUT is not available: keepalives remain.
func setUserTimeout(fd uintptr, d time.Duration) error { return nil }
