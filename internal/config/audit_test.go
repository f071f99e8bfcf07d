package config

import (
	"strings"
	"testing"
	"time"
)

func TestAuditSettings(t *testing.T) {
	tests := []struct {
		name      string
		set       map[string]string
		retention time.Duration
		wantErr   string // "" means valid; a load error or a Validate error naming this
	}{
		{name: "defaults keep forever"},
		{name: "days", set: map[string]string{"COFFER_AUDIT_RETENTION": "365d"}, retention: 365 * 24 * time.Hour},
		{name: "hours", set: map[string]string{"COFFER_AUDIT_RETENTION": "2160h"}, retention: 90 * 24 * time.Hour},
		{name: "negative", set: map[string]string{"COFFER_AUDIT_RETENTION": "-1d"}, wantErr: "COFFER_AUDIT_RETENTION"},
		{name: "not a duration", set: map[string]string{"COFFER_AUDIT_RETENTION": "a year"}, wantErr: "COFFER_AUDIT_RETENTION"},
		{name: "stream to stdout", set: map[string]string{"COFFER_AUDIT_STREAM_FILE": "-"}},
		{name: "stream url", set: map[string]string{"COFFER_AUDIT_STREAM_URL": "https://siem.example.com/in", "COFFER_AUDIT_STREAM_HEADER": "Authorization: Splunk x"}},
		{name: "stream url not http", set: map[string]string{"COFFER_AUDIT_STREAM_URL": "ftp://siem.example.com"}, wantErr: "COFFER_AUDIT_STREAM_URL"},
		{name: "stream url with credentials", set: map[string]string{"COFFER_AUDIT_STREAM_URL": "https://u:p@siem.example.com"}, wantErr: "COFFER_AUDIT_STREAM_HEADER"},
		{name: "flush interval", set: map[string]string{"COFFER_AUDIT_FLUSH_INTERVAL": "1s"}},
		{name: "flush interval too long", set: map[string]string{"COFFER_AUDIT_FLUSH_INTERVAL": "1m"}, wantErr: "COFFER_AUDIT_FLUSH_INTERVAL"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := validEnv()
			for k, v := range tc.set {
				m[k] = v
			}
			c, err := Load(mustFlags(t), env(m))
			if err == nil {
				err = c.Validate()
			}
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Fatalf("error %v, want one naming %s", err, tc.wantErr)
			case tc.wantErr == "" && c.AuditRetention != tc.retention:
				t.Fatalf("retention %v, want %v", c.AuditRetention, tc.retention)
			}
			if c != nil {
				var dump strings.Builder
				c.Dump(&dump)
				if strings.Contains(dump.String(), "Splunk x") {
					t.Error("the stream header is shown in the configuration dump")
				}
			}
		})
	}
}
