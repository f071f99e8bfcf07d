package config

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"time"
)

// PROXY protocol modes of COFFER_PROXY_PROTOCOL.
const (
	ProxyProtocolOff      = "off"
	ProxyProtocolOn       = "on"
	ProxyProtocolOptional = "optional"
)

// maxShutdownDrain bounds COFFER_SHUTDOWN_DRAIN: ECS stops a task after its stopTimeout (at
// most 120 s) whatever the drain says.
const maxShutdownDrain = 10 * time.Minute

// TLS reports whether the main listener serves HTTPS.
func (c *Config) TLS() bool { return c.TLSCertFile != "" && c.TLSKeyFile != "" }

// TrustedProxyPrefixes returns COFFER_TRUSTED_PROXIES parsed: each entry a CIDR block or a
// single address. Call it after Validate, which reports a bad entry.
func (c *Config) TrustedProxyPrefixes() ([]netip.Prefix, error) {
	return ParsePrefixes(c.TrustedProxies)
}

// ParsePrefixes parses a comma-separated list of CIDR blocks or addresses; empty entries are
// skipped. IPv4-mapped IPv6 forms are reduced to IPv4.
func ParsePrefixes(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		var p netip.Prefix
		if strings.Contains(part, "/") {
			var err error
			if p, err = netip.ParsePrefix(part); err != nil {
				return nil, fmt.Errorf("%q is not a CIDR block such as 10.0.0.0/16", part)
			}
			if a := p.Addr(); a.Is4In6() && p.Bits() >= 96 {
				p = netip.PrefixFrom(a.Unmap(), p.Bits()-96)
			}
		} else {
			a, err := netip.ParseAddr(part)
			if err != nil {
				return nil, fmt.Errorf("%q is not an IP address or CIDR block", part)
			}
			a = a.Unmap()
			p = netip.PrefixFrom(a, a.BitLen())
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

func checkShutdownDrain(c *Config) error {
	if c.ShutdownDrain < 0 || c.ShutdownDrain > maxShutdownDrain {
		return fmt.Errorf("COFFER_SHUTDOWN_DRAIN: %s is not between 0s and %s", c.ShutdownDrain, maxShutdownDrain)
	}
	return nil
}

func checkTLSFiles(c *Config) error {
	if (c.TLSCertFile == "") != (c.TLSKeyFile == "") {
		return errors.New("COFFER_TLS_CERT_FILE and COFFER_TLS_KEY_FILE: set both or neither")
	}
	return nil
}

func checkHTTPRedirectListen(c *Config) error {
	if c.HTTPRedirectListen == "" {
		return nil
	}
	if _, _, err := net.SplitHostPort(c.HTTPRedirectListen); err != nil {
		return fmt.Errorf("COFFER_HTTP_REDIRECT_LISTEN: %q is not host:port", c.HTTPRedirectListen)
	}
	if !c.TLS() {
		return errors.New("COFFER_HTTP_REDIRECT_LISTEN needs COFFER_TLS_CERT_FILE and COFFER_TLS_KEY_FILE: it redirects to HTTPS")
	}
	return nil
}

func checkTrustedProxies(c *Config) error {
	if _, err := c.TrustedProxyPrefixes(); err != nil {
		return fmt.Errorf("COFFER_TRUSTED_PROXIES: %w", err)
	}
	return nil
}

func checkProxyProtocol(c *Config) error {
	if c.ProxyProtocol == "" { // a Config built in code: off
		return nil
	}
	if err := checkOneOf("COFFER_PROXY_PROTOCOL", c.ProxyProtocol, ProxyProtocolOff, ProxyProtocolOn, ProxyProtocolOptional); err != nil {
		return err
	}
	if c.ProxyProtocol == ProxyProtocolOptional && strings.TrimSpace(c.TrustedProxies) == "" {
		return errors.New("COFFER_PROXY_PROTOCOL=optional needs COFFER_TRUSTED_PROXIES: otherwise any client could send a header claiming any address")
	}
	return nil
}
