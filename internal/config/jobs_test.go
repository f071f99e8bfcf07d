package config

import (
	"strings"
	"testing"
)

func TestValidateJobsAndMetrics(t *testing.T) {
	tests := []struct {
		name    string
		set     map[string]string
		wantErr string // "" means valid
	}{
		{name: "defaults"},
		{name: "concurrency", set: map[string]string{"COFFER_JOBS_CONCURRENCY": "16"}},
		{name: "concurrency zero means the default", set: map[string]string{"COFFER_JOBS_CONCURRENCY": "0"}},
		{name: "concurrency negative", set: map[string]string{"COFFER_JOBS_CONCURRENCY": "-1"}, wantErr: "COFFER_JOBS_CONCURRENCY"},
		{name: "concurrency too high", set: map[string]string{"COFFER_JOBS_CONCURRENCY": "257"}, wantErr: "COFFER_JOBS_CONCURRENCY"},
		{name: "metrics listen", set: map[string]string{"COFFER_METRICS_LISTEN": "127.0.0.1:9090"}},
		{name: "metrics listen not host:port", set: map[string]string{"COFFER_METRICS_LISTEN": "9090"}, wantErr: "COFFER_METRICS_LISTEN"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := validEnv()
			for k, v := range tc.set {
				m[k] = v
			}
			c := mustLoad(t, m)
			err := c.Validate()
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Fatalf("error %v, want one naming %s", err, tc.wantErr)
			}
			if tc.set == nil && c.JobsConcurrency != 4 {
				t.Fatalf("default concurrency %d", c.JobsConcurrency)
			}
		})
	}
}
