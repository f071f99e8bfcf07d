// Command loadgen is Coffer's closed-loop load generator: a fixed number of workers, each with
// one request in flight, for a bounded time, against a loopback server only. Requests of the
// warm-up period are not counted. It prints requests/s, p50/p99/p99.9 latency and errors by
// kind; -json prints one JSON line instead, for scripts.
//
//	loadgen -url http://127.0.0.1:8080 -scenario read -c 16 -d 10s -project P -env dev   # token from COFFER_TOKEN
//	loadgen -scenario write -c 16 -project P -env staging                              # 10 secrets per batch, upsert
//	loadgen -scenario login -c 16     # COFFER_UNIVERSAL_AUTH_CLIENT_ID / _CLIENT_SECRET
//	loadgen -scenario create-project -c 4 -n 10000 -d 5m -warmup 0   # setup: many projects, fast
//
// Latencies are kept in a fixed-size log-linear histogram (64 KiB per worker, 0.8% precision).
// Rates and latencies count 2xx answers only.
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var cfg Config
	var label string
	var asJSON bool
	rnd := make([]byte, 3)
	_, _ = rand.Read(rnd)
	fs := flag.NewFlagSet("loadgen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&cfg.BaseURL, "url", "http://127.0.0.1:8080", "server base URL (loopback only)")
	fs.StringVar(&cfg.Scenario, "scenario", "read", "read, write, login or create-project")
	fs.IntVar(&cfg.Concurrency, "c", 16, "concurrency: workers with one request in flight each")
	fs.DurationVar(&cfg.Duration, "d", 10*time.Second, "measured duration, after the warm-up")
	fs.DurationVar(&cfg.Warmup, "warmup", 2*time.Second, "warm-up period, not counted")
	fs.IntVar(&cfg.Requests, "n", 0, "stop after this many requests in all, pre-flight included (0: no limit)")
	fs.DurationVar(&cfg.Timeout, "timeout", 10*time.Second, "timeout of one request")
	fs.StringVar(&cfg.Token, "token", os.Getenv("COFFER_TOKEN"), "bearer token (default $COFFER_TOKEN)")
	fs.StringVar(&cfg.ProjectID, "project", "", "project id (read, write)")
	fs.StringVar(&cfg.Environment, "env", "dev", "environment slug (read, write)")
	fs.StringVar(&cfg.SecretPath, "path", "/", "folder path (read, write)")
	fs.StringVar(&cfg.ClientID, "client-id", os.Getenv("COFFER_UNIVERSAL_AUTH_CLIENT_ID"), "universal-auth client id (login; default $COFFER_UNIVERSAL_AUTH_CLIENT_ID)")
	fs.StringVar(&cfg.ClientSecret, "client-secret", os.Getenv("COFFER_UNIVERSAL_AUTH_CLIENT_SECRET"), "universal-auth client secret (login; default $COFFER_UNIVERSAL_AUTH_CLIENT_SECRET)")
	fs.IntVar(&cfg.BatchSize, "batch", 10, "secrets per batch (write)")
	fs.StringVar(&cfg.KeyPrefix, "key-prefix", "BENCH_W", "key prefix (write): worker w upserts PREFIX<w>_<k>")
	fs.IntVar(&cfg.ExpectSecrets, "expect", -1, "read: fail unless the pre-flight listing holds this many secrets (-1: no check)")
	fs.StringVar(&cfg.NamePrefix, "name-prefix", "bench-"+hex.EncodeToString(rnd)+"-", "create-project: name prefix")
	fs.StringVar(&label, "label", "", "a label copied into the output")
	fs.BoolVar(&asJSON, "json", false, "print one JSON line instead of text")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	res, err := Run(ctx, cfg)
	if err != nil {
		return err
	}
	res.Label = label
	if asJSON {
		return json.NewEncoder(stdout).Encode(res)
	}
	printText(stdout, &cfg, res)
	return nil
}

func printText(w io.Writer, cfg *Config, r *Result) {
	name := r.Scenario
	if r.Label != "" {
		name += " (" + r.Label + ")"
	}
	fmt.Fprintf(w, "%s  c=%d  %.1fs measured after %v warm-up\n", name, r.Concurrency, r.Seconds, cfg.Warmup)
	fmt.Fprintf(w, "  requests/s  %.1f  (%d ok)\n", r.RPS, r.OK)
	fmt.Fprintf(w, "  latency     p50 %.3f ms  p99 %.3f ms  p99.9 %.3f ms  max %.3f ms  mean %.3f ms\n",
		r.P50ms, r.P99ms, r.P999ms, r.MaxMs, r.MeanMs)
	fmt.Fprintf(w, "  loadgen CPU %.0f%% of one core\n", r.CPUPercent)
	fmt.Fprintf(w, "  errors      %d\n", r.Errors)
	kinds := make([]string, 0, len(r.ErrorKinds))
	for k := range r.ErrorKinds {
		kinds = append(kinds, k)
	}
	slices.Sort(kinds)
	for _, k := range kinds {
		fmt.Fprintf(w, "    %-32s %d  (first: %.120s)\n", k, r.ErrorKinds[k], r.errorSamples[k])
	}
}
