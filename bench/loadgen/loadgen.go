package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Config is one run of the load generator.
type Config struct {
	BaseURL     string        // http://127.0.0.1:PORT; only loopback targets are accepted
	Scenario    string        // read, write, login or create-project
	Concurrency int           // workers, each with one request in flight at a time
	Duration    time.Duration // measured period, after the warm-up
	Warmup      time.Duration // period whose requests are not counted
	Requests    int           // when > 0, stop after this many requests in all (pre-flight included)
	Timeout     time.Duration // per request

	Token       string // bearer token (read, write, create-project)
	ProjectID   string // read, write
	Environment string // read, write
	SecretPath  string // read, write

	ClientID, ClientSecret string // login

	BatchSize     int    // write: secrets per batch
	KeyPrefix     string // write: worker w upserts KEYPREFIX<w>_<k>
	ExpectSecrets int    // read: when >= 0, the pre-flight listing must hold exactly this many secrets
	NamePrefix    string // create-project: projects are named NAMEPREFIX<n>
}

// Result is what a run measured. Rates and latencies count successful (2xx) answers only;
// everything else is an error, counted by kind.
type Result struct {
	Scenario    string            `json:"scenario"`
	Label       string            `json:"label,omitempty"`
	Concurrency int               `json:"concurrency"`
	Seconds     float64           `json:"seconds"` // measured period actually run
	OK          uint64            `json:"ok"`      // 2xx answers in the measured period
	RPS         float64           `json:"rps"`     // OK / Seconds
	P50ms       float64           `json:"p50_ms"`
	P99ms       float64           `json:"p99_ms"`
	P999ms      float64           `json:"p999_ms"`
	MaxMs       float64           `json:"max_ms"`
	MeanMs      float64           `json:"mean_ms"`
	Errors      uint64            `json:"errors"`          // non-2xx answers and transport errors in the measured period
	ErrorKinds  map[string]uint64 `json:"error_kinds"`     // "HTTP 500", "transport: timeout", ...
	OKTotal     uint64            `json:"ok_total"`        // 2xx answers including warm-up and pre-flight
	CPUPercent  float64           `json:"loadgen_cpu_pct"` // the load generator's own CPU use in the measured period (100 = one core)

	errorSamples map[string]string
}

// errNotLoopback is returned when a target, or the address a connection reached, is not a
// loopback address.
var errNotLoopback = errors.New("refusing a non-loopback target: the load generator only talks to 127.0.0.0/8 or ::1")

// checkLoopback accepts http URLs whose host is a loopback IP literal or "localhost".
func checkLoopback(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, err
	}
	if u.Scheme != "http" {
		return nil, fmt.Errorf("%q: only http:// targets are supported", raw)
	}
	host := u.Hostname()
	if host == "localhost" {
		return u, nil
	}
	ip, err := netip.ParseAddr(host)
	if err != nil || !ip.IsLoopback() {
		return nil, fmt.Errorf("%q: %w", raw, errNotLoopback)
	}
	return u, nil
}

// loopbackDial dials and then checks that the peer is a loopback address, so that neither
// name resolution nor anything else can send the load elsewhere.
func loopbackDial(ctx context.Context, network, addr string) (net.Conn, error) {
	conn, err := (&net.Dialer{Timeout: 5 * time.Second}).DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	if ta, ok := conn.RemoteAddr().(*net.TCPAddr); !ok || !ta.IP.IsLoopback() {
		conn.Close()
		return nil, errNotLoopback
	}
	return conn, nil
}

// requestFunc builds the n-th request of worker w.
type requestFunc func(ctx context.Context, w int, n uint64) (*http.Request, error)

func newRequestFunc(cfg *Config, base string) (requestFunc, error) {
	bearer := "Bearer " + cfg.Token
	needToken := func() error {
		if cfg.Token == "" {
			return fmt.Errorf("scenario %s needs a token (-token or COFFER_TOKEN)", cfg.Scenario)
		}
		return nil
	}
	needScope := func() error {
		if cfg.ProjectID == "" || cfg.Environment == "" || cfg.SecretPath == "" {
			return fmt.Errorf("scenario %s needs -project, -env and -path", cfg.Scenario)
		}
		return needToken()
	}
	jsonReq := func(ctx context.Context, method, u string, body []byte, auth bool) (*http.Request, error) {
		req, err := http.NewRequestWithContext(ctx, method, u, bytes.NewReader(body))
		if err != nil {
			return nil, err
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json")
		if auth {
			req.Header.Set("Authorization", bearer)
		}
		return req, nil
	}
	switch cfg.Scenario {
	case "read":
		if err := needScope(); err != nil {
			return nil, err
		}
		u := base + "/api/v4/secrets?" + url.Values{
			"projectId": {cfg.ProjectID}, "environment": {cfg.Environment}, "secretPath": {cfg.SecretPath},
		}.Encode()
		return func(ctx context.Context, _ int, _ uint64) (*http.Request, error) {
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
			if err != nil {
				return nil, err
			}
			req.Header.Set("Accept", "application/json")
			req.Header.Set("Authorization", bearer)
			return req, nil
		}, nil
	case "write":
		if err := needScope(); err != nil {
			return nil, err
		}
		if cfg.BatchSize < 1 {
			return nil, errors.New("-batch must be at least 1")
		}
		scope, _ := json.Marshal(map[string]string{"projectId": cfg.ProjectID, "environment": cfg.Environment,
			"secretPath": cfg.SecretPath, "mode": "upsert"})
		head := append(scope[:len(scope)-1:len(scope)-1], `,"secrets":[`...)
		u := base + "/api/v4/secrets/batch"
		return func(ctx context.Context, w int, n uint64) (*http.Request, error) {
			// Worker w upserts its own BatchSize keys with new 40-byte values each time:
			// every request writes a new version of each.
			b := make([]byte, 0, len(head)+cfg.BatchSize*96+2)
			b = append(b, head...)
			for k := range cfg.BatchSize {
				if k > 0 {
					b = append(b, ',')
				}
				b = fmt.Appendf(b, `{"secretKey":"%s%03d_%02d","secretValue":"v%015d%024d"}`, cfg.KeyPrefix, w, k, n, k)
			}
			b = append(b, "]}"...)
			return jsonReq(ctx, http.MethodPatch, u, b, true)
		}, nil
	case "login":
		if cfg.ClientID == "" || cfg.ClientSecret == "" {
			return nil, errors.New("scenario login needs -client-id and -client-secret (or COFFER_UNIVERSAL_AUTH_CLIENT_ID/_SECRET)")
		}
		body, _ := json.Marshal(map[string]string{"clientId": cfg.ClientID, "clientSecret": cfg.ClientSecret})
		u := base + "/api/v1/auth/universal-auth/login"
		return func(ctx context.Context, _ int, _ uint64) (*http.Request, error) {
			return jsonReq(ctx, http.MethodPost, u, body, false)
		}, nil
	case "create-project":
		if err := needToken(); err != nil {
			return nil, err
		}
		u := base + "/api/v2/workspace"
		return func(ctx context.Context, _ int, n uint64) (*http.Request, error) {
			body, _ := json.Marshal(map[string]string{"projectName": cfg.NamePrefix + strconv.FormatUint(n, 10)})
			return jsonReq(ctx, http.MethodPost, u, body, true)
		}, nil
	}
	return nil, fmt.Errorf("unknown scenario %q (read, write, login or create-project)", cfg.Scenario)
}

// classify names the kind of a transport error.
func classify(err error) string {
	var ne net.Error
	switch {
	case errors.Is(err, errNotLoopback):
		return "transport: non-loopback"
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return "transport: timeout"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "transport: connection refused"
	case errors.Is(err, syscall.ECONNRESET):
		return "transport: connection reset"
	case errors.Is(err, syscall.EPIPE):
		return "transport: broken pipe"
	case errors.Is(err, syscall.EADDRNOTAVAIL):
		return "transport: address not available"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "transport: eof"
	}
	return "transport: other"
}

// stats is one worker's tally of the measured period.
type stats struct {
	h       hist
	errs    map[string]uint64
	samples map[string]string
	okAll   uint64
	lastEnd time.Time
}

func (s *stats) fail(kind, msg string) {
	s.errs[kind]++
	if _, ok := s.samples[kind]; !ok {
		s.samples[kind] = msg
	}
}

// do sends one request and reads the answer to the end. It returns the status (0 on a
// transport error), the time to the last byte of the answer, and the error.
func do(client *http.Client, req *http.Request, body *[]byte) (int, time.Duration, error) {
	t0 := time.Now()
	resp, err := client.Do(req)
	if err != nil {
		return 0, time.Since(t0), err
	}
	defer resp.Body.Close()
	if body != nil {
		*body, err = io.ReadAll(resp.Body)
	} else {
		_, err = io.Copy(io.Discard, resp.Body)
	}
	d := time.Since(t0)
	if err != nil {
		return 0, d, fmt.Errorf("read answer: %w", err)
	}
	return resp.StatusCode, d, nil
}

// preflight sends one request before the run and fails unless it succeeds, so that a
// misconfigured run (a bad token, an empty environment) is an error, not a benchmark of 401s.
func preflight(ctx context.Context, cfg *Config, client *http.Client, mk requestFunc) error {
	req, err := mk(ctx, 0, 0)
	if err != nil {
		return err
	}
	var body []byte
	status, _, err := do(client, req, &body)
	if err != nil {
		return fmt.Errorf("pre-flight %s %s: %w", req.Method, req.URL.Path, err)
	}
	if status < 200 || status > 299 {
		return fmt.Errorf("pre-flight %s %s: HTTP %d: %.300s", req.Method, req.URL.Path, status, body)
	}
	if cfg.Scenario == "read" && cfg.ExpectSecrets >= 0 {
		var l struct {
			Secrets []json.RawMessage `json:"secrets"`
		}
		if err := json.Unmarshal(body, &l); err != nil {
			return fmt.Errorf("pre-flight listing: %w", err)
		}
		if len(l.Secrets) != cfg.ExpectSecrets {
			return fmt.Errorf("pre-flight listing holds %d secrets, expected %d", len(l.Secrets), cfg.ExpectSecrets)
		}
	}
	return nil
}

// Run runs cfg's scenario: Concurrency workers each send a request, wait for the whole answer
// and send the next (a closed loop) until Warmup+Duration has passed (or Requests were sent,
// or ctx is done). Requests started in the warm-up are not counted.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	u, err := checkLoopback(cfg.BaseURL)
	if err != nil {
		return nil, err
	}
	if cfg.Concurrency < 1 || cfg.Duration <= 0 || cfg.Warmup < 0 {
		return nil, errors.New("concurrency must be at least 1 and the duration positive")
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Second
	}
	mk, err := newRequestFunc(&cfg, strings.TrimRight(u.String(), "/"))
	if err != nil {
		return nil, err
	}
	tr := &http.Transport{
		Proxy:               nil, // never through a proxy: loopback only
		DialContext:         loopbackDial,
		MaxIdleConns:        2 * cfg.Concurrency,
		MaxIdleConnsPerHost: 2 * cfg.Concurrency,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
	}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: cfg.Timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

	if err := preflight(ctx, &cfg, client, mk); err != nil {
		return nil, err
	}
	var tickets atomic.Uint64 // request numbers; 0 was the pre-flight
	start := time.Now()
	measureFrom, end := start.Add(cfg.Warmup), start.Add(cfg.Warmup+cfg.Duration)
	cpu0 := make(chan time.Duration, 1)
	cpuTimer := time.AfterFunc(cfg.Warmup, func() { cpu0 <- cpuTime() })
	all := make([]*stats, cfg.Concurrency)
	var wg sync.WaitGroup
	for w := range cfg.Concurrency {
		st := &stats{errs: map[string]uint64{}, samples: map[string]string{}}
		all[w] = st
		wg.Go(func() {
			for ctx.Err() == nil {
				t0 := time.Now()
				if !t0.Before(end) {
					return
				}
				n := tickets.Add(1)
				if cfg.Requests > 0 && n >= uint64(cfg.Requests) {
					return
				}
				req, err := mk(ctx, w, n)
				if err != nil {
					st.fail("build request", err.Error())
					return
				}
				status, d, err := do(client, req, nil)
				ok := err == nil && status >= 200 && status <= 299
				if ok {
					st.okAll++
				}
				if t0.Before(measureFrom) {
					continue
				}
				if ctx.Err() != nil && err != nil { // interrupted, not failed
					return
				}
				st.lastEnd = t0.Add(d)
				switch {
				case ok:
					st.h.record(d)
				case err != nil:
					st.fail(classify(err), err.Error())
				default:
					st.fail("HTTP "+strconv.Itoa(status), http.StatusText(status))
				}
			}
		})
	}
	wg.Wait()
	wall := time.Since(measureFrom)
	if cpuTimer.Stop() { // stopped before the warm-up ended
		cpu0 <- cpuTime()
	}
	cpu := cpuTime() - <-cpu0

	var h hist
	res := &Result{Scenario: cfg.Scenario, Concurrency: cfg.Concurrency, ErrorKinds: map[string]uint64{},
		errorSamples: map[string]string{}, OKTotal: 1}
	last := measureFrom
	for _, st := range all {
		h.merge(&st.h)
		res.OKTotal += st.okAll
		for k, c := range st.errs {
			res.ErrorKinds[k] += c
			res.Errors += c
			if _, ok := res.errorSamples[k]; !ok {
				res.errorSamples[k] = st.samples[k]
			}
		}
		if st.lastEnd.After(last) {
			last = st.lastEnd
		}
	}
	elapsed := last.Sub(measureFrom)
	if elapsed <= 0 {
		elapsed = time.Since(measureFrom)
	}
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	res.Seconds = elapsed.Seconds()
	if wall > 0 {
		res.CPUPercent = math.Round(1000*cpu.Seconds()/wall.Seconds()) / 10
	}
	res.OK = h.n
	if elapsed > 0 {
		res.RPS = float64(h.n) / elapsed.Seconds()
	}
	res.P50ms, res.P99ms, res.P999ms = ms(h.quantile(0.50)), ms(h.quantile(0.99)), ms(h.quantile(0.999))
	res.MaxMs, res.MeanMs = ms(time.Duration(h.max)), ms(h.mean())
	return res, nil
}

// cpuTime returns the user and system CPU time this process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
