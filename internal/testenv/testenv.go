// Package testenv starts throwaway PostgreSQL and Redis servers for tests. It
// never touches a server it did not start, except the ones named by
// COFFER_TEST_POSTGRES_URL / COFFER_TEST_REDIS_URL.
//
// Servers listen on free 127.0.0.1 ports and live in temporary directories.
// Run stops them after the tests; should the test binary die first (timeout,
// SIGKILL), a detached watchdog per server stops it and removes its directory.
//
// When a server cannot be had (binaries missing, no unprivileged user to run
// PostgreSQL as root), tests skip with a loud message, or fail when CI=true.
// A server whose binaries exist but which fails to start always fails the test.
package testenv

import (
	"errors"
	"os"
	"strconv"
	"testing"
)

// Run wraps m.Run for a TestMain: it runs the tests, then stops every server
// this test binary started and removes their directories. Usage:
//
//	func TestMain(m *testing.M) { os.Exit(testenv.Run(m)) }
func Run(m *testing.M) int {
	code := m.Run()
	stopAll()
	return code
}

// missingError says that something needed for a server is not installed or
// configured; it makes tests skip (or fail under CI=true) rather than fail.
type missingError struct{ msg string }

func (e *missingError) Error() string { return e.msg }

// fail reports err to t: a skip with a loud message when err is a
// missingError and CI is not set, a fatal error otherwise. env names the
// variable that would have provided a server instead, if any.
func fail(t testing.TB, env string, err error) {
	t.Helper()
	var miss *missingError
	if !errors.As(err, &miss) {
		t.Fatalf("testenv: %v", err)
		return
	}
	msg := miss.msg + "; install it"
	if env != "" {
		msg += " or set " + env
	}
	if ci, _ := strconv.ParseBool(os.Getenv("CI")); ci {
		t.Fatalf("testenv: %s (CI=%s: failing instead of skipping)", msg, os.Getenv("CI"))
		return
	}
	t.Skipf("testenv: *** SKIPPED: %s ***", msg)
}
