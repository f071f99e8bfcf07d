// Command benchtool holds the small measurements bench/run.sh cannot make precisely in shell:
//
//	benchtool freeport                                  a free TCP port on 127.0.0.1
//	benchtool startup -url URL [-n 5] -- CMD ARGS...    start-to-ready: exec CMD, poll URL until
//	                                                    it answers 200, read the idle RSS, stop it
//	benchtool repeat [-n 30] -- CMD ARGS...             wall time of CMD, run n times in a row
//	benchtool rss -pid PID [-skip 2s] [-d 10s] [-tree DB_PID]
//	                                                    VmRSS of PID sampled every 100 ms, its CPU
//	                                                    use, that of DB_PID and its children, and
//	                                                    the whole machine's
//
// Each measurement prints one JSON line. Only loopback URLs are polled.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

func main() {
	if len(os.Args) < 2 {
		fail(errors.New("usage: benchtool freeport | startup | repeat | rss (see the source)"))
	}
	var err error
	switch cmd, args := os.Args[1], os.Args[2:]; cmd {
	case "freeport":
		err = freePort()
	case "startup":
		err = startup(args)
	case "repeat":
		err = repeat(args)
	case "rss":
		err = rss(args)
	default:
		err = fmt.Errorf("unknown command %q", cmd)
	}
	if err != nil {
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "benchtool:", err)
	os.Exit(1)
}

func printJSON(v any) error { return json.NewEncoder(os.Stdout).Encode(v) }

func freePort() error {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	defer l.Close()
	fmt.Println(l.Addr().(*net.TCPAddr).Port)
	return nil
}

// summary is the distribution of a few wall times, in milliseconds.
type summary struct {
	Runs     int       `json:"runs"`
	MedianMs float64   `json:"median_ms"`
	MinMs    float64   `json:"min_ms"`
	MaxMs    float64   `json:"max_ms"`
	AllMs    []float64 `json:"all_ms"`
}

func summarize(ds []time.Duration) summary {
	ms := make([]float64, len(ds))
	for i, d := range ds {
		ms[i] = float64(d.Microseconds()) / 1000
	}
	s := slices.Clone(ms)
	slices.Sort(s)
	med := s[len(s)/2]
	if len(s)%2 == 0 {
		med = (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	return summary{Runs: len(s), MedianMs: med, MinMs: s[0], MaxMs: s[len(s)-1], AllMs: ms}
}

// command returns the command after "--" in a flag set's arguments.
func command(fs *flag.FlagSet) ([]string, error) {
	if fs.NArg() == 0 {
		return nil, errors.New("no command given after --")
	}
	return fs.Args(), nil
}

func startup(args []string) error {
	fs := flag.NewFlagSet("startup", flag.ContinueOnError)
	rawURL := fs.String("url", "", "readiness URL, e.g. http://127.0.0.1:PORT/readyz (loopback only)")
	n := fs.Int("n", 5, "number of starts")
	settle := fs.Duration("settle", time.Second, "wait after ready before reading the idle RSS")
	timeout := fs.Duration("timeout", 30*time.Second, "give up on a start after this long")
	logPath := fs.String("log", os.DevNull, "append the command's output to this file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	argv, err := command(fs)
	if err != nil {
		return err
	}
	u, err := url.Parse(*rawURL)
	if err != nil || u.Scheme != "http" || !isLoopback(u.Hostname()) {
		return fmt.Errorf("-url %q: an http URL on a loopback address is required", *rawURL)
	}
	logf, err := os.OpenFile(*logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer logf.Close()
	client := &http.Client{Timeout: time.Second, Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true}}
	var times []time.Duration
	var rssKB []int
	for range *n {
		cmd := exec.Command(argv[0], argv[1:]...)
		cmd.Stdout, cmd.Stderr = logf, logf
		t0 := time.Now()
		if err := cmd.Start(); err != nil {
			return err
		}
		exited := make(chan error, 1)
		go func() { exited <- cmd.Wait() }()
		d, err := waitReady(client, u.String(), t0, *timeout, exited)
		if err == nil {
			times = append(times, d)
			time.Sleep(*settle)
			var kb int
			if kb, err = vmRSS(cmd.Process.Pid); err == nil {
				rssKB = append(rssKB, kb)
			}
		}
		stop(cmd, exited)
		if err != nil {
			return err
		}
	}
	slices.Sort(rssKB)
	return printJSON(struct {
		summary
		IdleRSSKB int `json:"idle_rss_kb"` // median over the starts
	}{summarize(times), rssKB[len(rssKB)/2]})
}

// waitReady polls u every 2 ms until it answers 200 and returns the time since t0.
func waitReady(client *http.Client, u string, t0 time.Time, timeout time.Duration, exited chan error) (time.Duration, error) {
	for {
		select {
		case err := <-exited:
			exited <- err
			return 0, fmt.Errorf("the command exited before it was ready: %v", err)
		default:
		}
		resp, err := client.Get(u)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return time.Since(t0), nil
			}
		}
		if time.Since(t0) > timeout {
			return 0, fmt.Errorf("%s not ready after %v", u, timeout)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// stop sends SIGTERM, and SIGKILL after 15 s, and waits for the process to exit.
func stop(cmd *exec.Cmd, exited chan error) {
	_ = cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-exited:
	case <-time.After(15 * time.Second):
		_ = cmd.Process.Kill()
		<-exited
	}
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func repeat(args []string) error {
	fs := flag.NewFlagSet("repeat", flag.ContinueOnError)
	n := fs.Int("n", 30, "number of runs")
	if err := fs.Parse(args); err != nil {
		return err
	}
	argv, err := command(fs)
	if err != nil {
		return err
	}
	times := make([]time.Duration, 0, *n)
	for i := range *n {
		cmd := exec.Command(argv[0], argv[1:]...)
		var stderr strings.Builder
		cmd.Stderr = &stderr
		t0 := time.Now()
		err := cmd.Run()
		times = append(times, time.Since(t0))
		if err != nil {
			return fmt.Errorf("run %d of %q: %v\n%s", i+1, strings.Join(argv, " "), err, stderr.String())
		}
	}
	return printJSON(summarize(times))
}

// vmRSS reads the resident set size of pid, in KiB, from /proc/PID/status.
func vmRSS(pid int) (int, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, err
	}
	for line := range strings.Lines(string(b)) {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			return strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(rest), " kB"))
		}
	}
	return 0, errors.New("no VmRSS in /proc/" + strconv.Itoa(pid) + "/status")
}

// cpuTicks reads the user+system CPU time of pid, in clock ticks, from /proc/PID/stat.
func cpuTicks(pid int) (int, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, err
	}
	// The command name, in parentheses, may hold spaces: fields are counted after it.
	_, rest, ok := strings.Cut(string(b), ") ")
	f := strings.Fields(rest)
	if !ok || len(f) < 13 {
		return 0, errors.New("unexpected /proc/PID/stat")
	}
	utime, err1 := strconv.Atoi(f[11])
	stime, err2 := strconv.Atoi(f[12])
	return utime + stime, errors.Join(err1, err2)
}

// treeTicks is cpuTicks of pid plus that of its direct children (PostgreSQL's backends are
// children of the postmaster). A child that exits between two readings takes its ticks along.
func treeTicks(pid int) (int, error) {
	total, err := cpuTicks(pid)
	if err != nil {
		return 0, err
	}
	dirs, _ := os.ReadDir("/proc")
	for _, d := range dirs {
		child, err := strconv.Atoi(d.Name())
		if err != nil || child == pid {
			continue
		}
		b, err := os.ReadFile("/proc/" + d.Name() + "/stat")
		if err != nil {
			continue
		}
		_, rest, _ := strings.Cut(string(b), ") ")
		if f := strings.Fields(rest); len(f) > 1 && f[1] == strconv.Itoa(pid) {
			if t, err := cpuTicks(child); err == nil {
				total += t
			}
		}
	}
	return total, nil
}

// machineTicks reads the busy CPU time of the whole machine (all CPUs), in clock ticks, from
// the first line of /proc/stat: everything but idle and iowait.
func machineTicks() (int, error) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, err
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 9 || f[0] != "cpu" {
		return 0, errors.New("unexpected /proc/stat")
	}
	busy := 0
	for i, v := range f[1:9] { // user nice system idle iowait irq softirq steal
		n, err := strconv.Atoi(v)
		if err != nil {
			return 0, err
		}
		if i != 3 && i != 4 {
			busy += n
		}
	}
	return busy, nil
}

// clockTicks is USER_HZ, 100 on every Linux architecture Go supports.
const clockTicks = 100

func rss(args []string) error {
	fs := flag.NewFlagSet("rss", flag.ContinueOnError)
	pid := fs.Int("pid", 0, "process id")
	skip := fs.Duration("skip", 0, "wait this long before sampling (a warm-up)")
	d := fs.Duration("d", 10*time.Second, "how long to sample")
	every := fs.Duration("every", 100*time.Millisecond, "sampling interval")
	tree := fs.Int("tree", 0, "also report the CPU use of this process and its children (a database server)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	time.Sleep(*skip)
	t0 := time.Now()
	cpu0, cpuErr := cpuTicks(*pid)
	var tree0 int
	if *tree > 0 {
		tree0, _ = treeTicks(*tree)
	}
	machine0, machineErr := machineTicks()
	ctx, cancel := context.WithTimeout(context.Background(), *d)
	defer cancel()
	var samples []int
	for ctx.Err() == nil {
		kb, err := vmRSS(*pid)
		if err != nil {
			break // the process is gone
		}
		samples = append(samples, kb)
		select {
		case <-ctx.Done():
		case <-time.After(*every):
		}
	}
	if len(samples) == 0 {
		return fmt.Errorf("could not read the RSS of pid %d", *pid)
	}
	pct := func(ticks int) float64 {
		return float64(int(float64(ticks)/clockTicks/time.Since(t0).Seconds()*1000+0.5)) / 10
	}
	sorted := slices.Clone(samples)
	slices.Sort(sorted)
	out := map[string]any{"samples": len(samples), "max_rss_kb": sorted[len(sorted)-1],
		"median_rss_kb": sorted[len(sorted)/2], "last_rss_kb": samples[len(samples)-1]}
	if cpu1, err := cpuTicks(*pid); cpuErr == nil && err == nil {
		out["cpu_pct"] = pct(cpu1 - cpu0)
	}
	if machine1, err := machineTicks(); machineErr == nil && err == nil {
		out["machine_cpu_pct"] = pct(machine1 - machine0)
	}
	if *tree > 0 {
		if tree1, err := treeTicks(*tree); err == nil {
			out["tree_cpu_pct"] = pct(tree1 - tree0)
		}
	}
	return printJSON(out)
}
