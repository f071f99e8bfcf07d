package server_test

import (
	"os"
	"testing"

	"github.com/cofferhq/coffer/internal/testenv"
)

// TestMain stops the throwaway PostgreSQL that the end-to-end tests start.
func TestMain(m *testing.M) { os.Exit(testenv.Run(m)) }
