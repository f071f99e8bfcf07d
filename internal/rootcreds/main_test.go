package rootcreds_test

import (
	"os"
	"testing"

	"github.com/cofferhq/coffer/internal/testenv"
)

func TestMain(m *testing.M) { os.Exit(testenv.Run(m)) }
