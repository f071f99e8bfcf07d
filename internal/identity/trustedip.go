package identity

import (
	"net/netip"
	"strings"

	"github.com/cofferhq/coffer"
)

// DefaultTrustedIPs trusts every address.
var DefaultTrustedIPs = []coffer.TrustedIP{
	{IPAddress: "0.0.0.0", Type: "ipv4", Prefix: 0},
	{IPAddress: "::", Type: "ipv6", Prefix: 0},
}

// ParseTrustedIPs validates a list of addresses or CIDR blocks given by a client and returns
// them in canonical form. An empty list means the default, every address.
func ParseTrustedIPs(field string, in []string) ([]coffer.TrustedIP, error) {
	if len(in) == 0 {
		return DefaultTrustedIPs, nil
	}
	if len(in) > coffer.MaxTrustedIPsEntries {
		return nil, coffer.Errorf(coffer.EVALIDATION, "%s: at most %d entries", field, coffer.MaxTrustedIPsEntries)
	}
	out := make([]coffer.TrustedIP, 0, len(in))
	for i, s := range in {
		s = strings.TrimSpace(s)
		var p netip.Prefix
		var err error
		if strings.Contains(s, "/") {
			p, err = netip.ParsePrefix(s)
		} else {
			var a netip.Addr
			if a, err = netip.ParseAddr(s); err == nil {
				p = netip.PrefixFrom(a, a.BitLen())
			}
		}
		if err != nil {
			return nil, coffer.Errorf(coffer.EVALIDATION, "%s[%d].ipAddress: %q is not an IP address or CIDR block", field, i, s)
		}
		p = p.Masked()
		typ := "ipv4"
		if p.Addr().Is6() && !p.Addr().Is4In6() {
			typ = "ipv6"
		}
		out = append(out, coffer.TrustedIP{IPAddress: p.Addr().String(), Type: typ, Prefix: p.Bits()})
	}
	return out, nil
}

// IPTrusted reports whether ip falls in one of the entries. An unknown (invalid) address is
// trusted only by a list with an entry that trusts every address.
func IPTrusted(list []coffer.TrustedIP, ip netip.Addr) bool {
	ip = ip.Unmap()
	for _, t := range list {
		a, err := netip.ParseAddr(t.IPAddress)
		if err != nil {
			continue
		}
		p, err := a.Unmap().Prefix(t.Prefix)
		if err != nil {
			continue
		}
		if ip.IsValid() && p.Contains(ip) || !ip.IsValid() && p.Bits() == 0 {
			return true
		}
	}
	return false
}
