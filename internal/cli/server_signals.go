package cli

import (
	"os"
	"os/signal"
	"syscall"

	"github.com/cofferhq/coffer/internal/server"
)

// endDrainOnSecondSignal makes a second SIGINT or SIGTERM cut the server's drain short (the
// first one, which main turns into the end of the command's context, starts it), so that
// Ctrl-C twice stops a development server at once. It returns the function that stops
// listening.
func endDrainOnSecondSignal(srv *server.Server) (stop func()) {
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	done := make(chan struct{})
	go func() {
		for n := 0; ; {
			select {
			case <-sigs:
				if n++; n == 2 {
					srv.EndDrain()
					return
				}
			case <-done:
				return
			}
		}
	}()
	return func() {
		signal.Stop(sigs)
		close(done)
	}
}
