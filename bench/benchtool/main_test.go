package main

import (
	"os"
	"runtime"
	"testing"
	"time"
)

func TestSummarize(t *testing.T) {
	s := summarize([]time.Duration{4 * time.Millisecond, time.Millisecond, 3 * time.Millisecond, 2 * time.Millisecond})
	if s.Runs != 4 || s.MedianMs != 2.5 || s.MinMs != 1 || s.MaxMs != 4 || s.AllMs[0] != 4 {
		t.Fatalf("%+v", s)
	}
	if s := summarize([]time.Duration{5 * time.Millisecond, time.Millisecond, 9 * time.Millisecond}); s.MedianMs != 5 {
		t.Fatalf("%+v", s)
	}
}

func TestProcReaders(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("reads /proc")
	}
	if kb, err := vmRSS(os.Getpid()); err != nil || kb <= 0 {
		t.Fatalf("vmRSS = %d, %v", kb, err)
	}
	if _, err := cpuTicks(os.Getpid()); err != nil {
		t.Fatal(err)
	}
	if _, err := treeTicks(os.Getppid()); err != nil {
		t.Fatal(err)
	}
	if n, err := machineTicks(); err != nil || n <= 0 {
		t.Fatalf("machineTicks = %d, %v", n, err)
	}
	if !isLoopback("127.0.0.1") || !isLoopback("::1") || isLoopback("10.0.0.1") || isLoopback("example.com") {
		t.Fatal("isLoopback")
	}
}
