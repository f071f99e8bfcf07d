package httpserver

import (
	"crypto/tls"
	"fmt"
	"net"
	"net/netip"

	"github.com/pires/go-proxyproto"
	"github.com/pires/go-proxyproto/tlvparse"
)

// ProxyMode says whether connections start with a PROXY protocol header.
type ProxyMode string

// PROXY protocol modes.
const (
	// ProxyOff: no header is expected; one that arrives is an HTTP error like any junk.
	ProxyOff ProxyMode = "off"
	// ProxyOn: every connection must start with a v1 or v2 header, or it is closed. With trusted
	// proxies, connections from other peers are closed at once.
	ProxyOn ProxyMode = "on"
	// ProxyOptional: peers in the trusted proxies may start with a header; other peers must
	// not (a header from them closes the connection) and are served as they are.
	ProxyOptional ProxyMode = "optional"
)

// ProxyListener wraps ln to read PROXY protocol v1/v2 headers in mode, believing them only
// from peers in trusted when trusted is not empty. ProxyOptional needs trusted proxies. The
// header is read in the connection's own goroutine, bounded by the read-header timeout, never
// in Accept.
func ProxyListener(ln net.Listener, mode ProxyMode, trusted []netip.Prefix) (net.Listener, error) {
	switch mode {
	case ProxyOff, "":
		return ln, nil
	case ProxyOn, ProxyOptional:
	default:
		return nil, fmt.Errorf("unknown PROXY protocol mode %q", mode)
	}
	if mode == ProxyOptional && len(trusted) == 0 {
		return nil, fmt.Errorf("PROXY protocol %q needs trusted proxies", mode)
	}
	policy := func(o proxyproto.ConnPolicyOptions) (proxyproto.Policy, error) {
		peer := addrOf(o.Upstream)
		switch {
		case len(trusted) == 0: // mode on, any peer
			return proxyproto.REQUIRE, nil
		case inPrefixes(trusted, peer) && mode == ProxyOn:
			return proxyproto.REQUIRE, nil
		case inPrefixes(trusted, peer):
			return proxyproto.USE, nil
		case mode == ProxyOptional:
			return proxyproto.REJECT, nil // served without a header; a header closes it
		}
		return proxyproto.REJECT, fmt.Errorf("%w: %s is not a trusted proxy", proxyproto.ErrInvalidUpstream, peer)
	}
	return &proxyproto.Listener{Listener: ln, ConnPolicy: policy, ReadHeaderTimeout: readHeaderTimeout}, nil
}

// connOrigin is what the PROXY protocol header of a request's connection said: the client
// address and the AWS VPC endpoint id (PrivateLink), if any. ok is false when the connection
// had no header, or a LOCAL one (a load balancer's own health check).
func connOrigin(c net.Conn) (ip netip.Addr, vpce string, ok bool) {
	if tc, isTLS := c.(*tls.Conn); isTLS {
		c = tc.NetConn()
	}
	pc, isProxy := c.(*proxyproto.Conn)
	if !isProxy {
		return netip.Addr{}, "", false
	}
	h := pc.ProxyHeader()
	if h == nil || h.Command.IsLocal() || h.SourceAddr == nil {
		return netip.Addr{}, "", false
	}
	ip = addrOf(h.SourceAddr)
	if !ip.IsValid() {
		return netip.Addr{}, "", false
	}
	if tlvs, err := h.TLVs(); err == nil {
		vpce = tlvparse.FindAWSVPCEndpointID(tlvs)
	}
	return ip, vpce, true
}

// addrOf returns the IP of a TCP address (IPv4-mapped forms reduced), or the zero Addr.
func addrOf(a net.Addr) netip.Addr {
	if a == nil {
		return netip.Addr{}
	}
	if tcp, ok := a.(*net.TCPAddr); ok {
		ip, _ := netip.AddrFromSlice(tcp.IP)
		return ip.Unmap()
	}
	if ap, err := netip.ParseAddrPort(a.String()); err == nil {
		return ap.Addr().Unmap()
	}
	return netip.Addr{}
}

func inPrefixes(list []netip.Prefix, ip netip.Addr) bool {
	if !ip.IsValid() {
		return false
	}
	for _, p := range list {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}
