package config

import (
	"net/netip"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestNetworkSettings(t *testing.T) {
	for _, tc := range []struct {
		name    string
		env     map[string]string
		wantErr string // part of the error; "" for none
	}{
		{name: "defaults"},
		{name: "TLS pair", env: map[string]string{"COFFER_TLS_CERT_FILE": "/c", "COFFER_TLS_KEY_FILE": "/k"}},
		{name: "half a TLS pair", env: map[string]string{"COFFER_TLS_CERT_FILE": "/c"}, wantErr: "set both or neither"},
		{name: "redirect with TLS", env: map[string]string{"COFFER_TLS_CERT_FILE": "/c", "COFFER_TLS_KEY_FILE": "/k", "COFFER_HTTP_REDIRECT_LISTEN": ":80"}},
		{name: "redirect without TLS", env: map[string]string{"COFFER_HTTP_REDIRECT_LISTEN": ":80"}, wantErr: "needs COFFER_TLS_CERT_FILE"},
		{name: "redirect not host:port", env: map[string]string{"COFFER_TLS_CERT_FILE": "/c", "COFFER_TLS_KEY_FILE": "/k", "COFFER_HTTP_REDIRECT_LISTEN": "80"},
			wantErr: "COFFER_HTTP_REDIRECT_LISTEN"},
		{name: "trusted proxies", env: map[string]string{"COFFER_TRUSTED_PROXIES": "10.0.0.0/16, 192.0.2.7 ,2001:db8::/32,"}},
		{name: "bad trusted proxy", env: map[string]string{"COFFER_TRUSTED_PROXIES": "10.0.0.0/16,10.0.0.300/8"}, wantErr: `COFFER_TRUSTED_PROXIES: "10.0.0.300/8"`},
		{name: "PROXY protocol on", env: map[string]string{"COFFER_PROXY_PROTOCOL": "on"}},
		{name: "PROXY protocol optional", env: map[string]string{"COFFER_PROXY_PROTOCOL": "optional", "COFFER_TRUSTED_PROXIES": "10.0.0.0/8"}},
		{name: "optional without trusted proxies", env: map[string]string{"COFFER_PROXY_PROTOCOL": "optional"}, wantErr: "needs COFFER_TRUSTED_PROXIES"},
		{name: "unknown PROXY mode", env: map[string]string{"COFFER_PROXY_PROTOCOL": "v2"}, wantErr: "COFFER_PROXY_PROTOCOL"},
		{name: "drain", env: map[string]string{"COFFER_SHUTDOWN_DRAIN": "0s"}},
		{name: "negative drain", env: map[string]string{"COFFER_SHUTDOWN_DRAIN": "-1s"}, wantErr: "COFFER_SHUTDOWN_DRAIN"},
		{name: "endless drain", env: map[string]string{"COFFER_SHUTDOWN_DRAIN": "1h"}, wantErr: "COFFER_SHUTDOWN_DRAIN"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := map[string]string{"COFFER_DEV": "true"}
			for k, v := range tc.env {
				env[k] = v
			}
			c, err := Load(nil, func(k string) (string, bool) { v, ok := env[k]; return v, ok })
			if err == nil {
				err = c.Validate()
			}
			switch {
			case tc.wantErr == "" && err != nil:
				t.Errorf("error %v", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Errorf("error %v; want one with %q", err, tc.wantErr)
			}
		})
	}
}

func TestNetworkDefaults(t *testing.T) {
	c, err := Load(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.ShutdownDrain != 15*time.Second || c.ProxyProtocol != ProxyProtocolOff || c.TLS() {
		t.Errorf("defaults: drain %s, PROXY %q, TLS %v; want 15s, off, false", c.ShutdownDrain, c.ProxyProtocol, c.TLS())
	}
	if err := checkProxyProtocol(&Config{}); err != nil {
		t.Errorf("a Config built in code without COFFER_PROXY_PROTOCOL: %v", err)
	}
}

func TestParsePrefixes(t *testing.T) {
	got, err := ParsePrefixes(" 10.1.2.3/16, 192.0.2.7, ::ffff:10.0.0.0/104, 2001:db8::1 ,")
	want := []netip.Prefix{netip.MustParsePrefix("10.1.0.0/16"), netip.MustParsePrefix("192.0.2.7/32"),
		netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("2001:db8::1/128")}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("ParsePrefixes = %v, %v; want %v", got, err, want)
	}
}
