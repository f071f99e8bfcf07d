package main

import (
	"math/bits"
	"time"
)

// hist is a fixed-size, log-linear latency histogram in the spirit of HdrHistogram: values
// (nanoseconds) below 256 are counted exactly, larger ones in 128 buckets per power of two, so
// a reported quantile is within 1/128 (0.8%) of the true value. It takes 64 KiB whatever the
// number of samples; each worker has its own and they are merged at the end.
type hist struct {
	counts [64 * subBuckets]uint64
	n      uint64
	sum    uint64 // nanoseconds
	min    uint64
	max    uint64
}

const (
	subBits    = 7
	subBuckets = 1 << subBits // 128
)

// bucket returns the index of the bucket counting v.
func bucket(v uint64) int {
	if v < 2*subBuckets {
		return int(v)
	}
	shift := bits.Len64(v) - (subBits + 1)
	return shift*subBuckets + int(v>>shift)
}

// bucketRange returns the smallest and largest value bucket i counts.
func bucketRange(i int) (lo, hi uint64) {
	if i < 2*subBuckets {
		return uint64(i), uint64(i)
	}
	shift := i/subBuckets - 1
	top := uint64(i - shift*subBuckets)
	return top << shift, (top+1)<<shift - 1
}

func (h *hist) record(d time.Duration) {
	v := uint64(max(d, 0))
	h.counts[bucket(v)]++
	if h.n == 0 || v < h.min {
		h.min = v
	}
	h.max = max(h.max, v)
	h.n++
	h.sum += v
}

func (h *hist) merge(o *hist) {
	if o.n == 0 {
		return
	}
	for i, c := range o.counts {
		h.counts[i] += c
	}
	if h.n == 0 || o.min < h.min {
		h.min = o.min
	}
	h.max = max(h.max, o.max)
	h.n += o.n
	h.sum += o.sum
}

// quantile returns the value at quantile q (0 < q <= 1): the middle of the bucket holding the
// ceil(q*n)-th smallest sample, clamped to the observed minimum and maximum.
func (h *hist) quantile(q float64) time.Duration {
	if h.n == 0 {
		return 0
	}
	rank := uint64(q*float64(h.n) + 0.999999)
	rank = min(max(rank, 1), h.n)
	var seen uint64
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			lo, hi := bucketRange(i)
			mid := lo + (hi-lo)/2
			return time.Duration(min(max(mid, h.min), h.max))
		}
	}
	return time.Duration(h.max)
}

func (h *hist) mean() time.Duration {
	if h.n == 0 {
		return 0
	}
	return time.Duration(h.sum / h.n)
}
