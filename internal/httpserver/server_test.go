package httpserver_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/cofferhq/coffer/internal/httpserver"
)

// slowServer serves /slow, which signals started and then waits for release.
func slowServer(t *testing.T, shutdown time.Duration) (url string, started, release chan struct{}, cancel context.CancelFunc, done chan error) {
	t.Helper()
	started, release = make(chan struct{}), make(chan struct{})
	mux := http.NewServeMux()
	mux.HandleFunc("GET /slow", func(w http.ResponseWriter, r *http.Request) {
		close(started)
		<-release
		io.WriteString(w, "done")
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	log, _ := newLogger(slog.LevelInfo)
	ctx, cancel := context.WithCancel(context.Background())
	done = make(chan error, 1)
	go func() { done <- httpserver.NewServer(mux, log).Serve(ctx, ln, shutdown) }()
	return "http://" + ln.Addr().String(), started, release, cancel, done
}

func TestServeGracefulShutdown(t *testing.T) {
	url, started, release, cancel, done := slowServer(t, 5*time.Second)
	type result struct {
		body string
		err  error
	}
	got := make(chan result, 1)
	go func() {
		resp, err := http.Get(url + "/slow")
		if err != nil {
			got <- result{err: err}
			return
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		got <- result{string(b), err}
	}()
	<-started
	cancel()

	// The listener closes while the slow request is still in flight.
	deadline := time.Now().Add(5 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", url[len("http://"):], time.Second)
		if err != nil {
			break
		}
		c.Close()
		if time.Now().After(deadline) {
			t.Fatal("the listener still accepts after cancel")
		}
		time.Sleep(10 * time.Millisecond)
	}
	select {
	case err := <-done:
		t.Fatalf("Serve returned %v before the in-flight request finished", err)
	default:
	}

	close(release)
	if r := <-got; r.err != nil || r.body != "done" {
		t.Errorf("in-flight request = %q, %v", r.body, r.err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Serve = %v, want nil on a clean stop", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not return")
	}
}

func TestServeShutdownTimeout(t *testing.T) {
	url, started, release, cancel, done := slowServer(t, 50*time.Millisecond)
	defer close(release)
	go func() {
		if resp, err := http.Get(url + "/slow"); err == nil {
			resp.Body.Close()
		}
	}()
	<-started
	cancel()
	select {
	case err := <-done:
		if err == nil {
			t.Error("Serve = nil, want an error when in-flight requests outlast the timeout")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not return after its shutdown timeout")
	}
}

func TestServeListenerError(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln.Close()
	err = httpserver.NewServer(http.NotFoundHandler(), slog.New(slog.DiscardHandler)).Serve(context.Background(), ln, time.Second)
	if err == nil {
		t.Error("Serve on a closed listener = nil")
	}
}
