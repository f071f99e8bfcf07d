package identity

import (
	"encoding/base64"
	"net/netip"
	"strings"
	"testing"

	"github.com/golang-jwt/jwt/v5"

	"github.com/cofferhq/coffer"
)

func TestParseTrustedIPs(t *testing.T) {
	for _, tc := range []struct {
		in      []string
		want    []coffer.TrustedIP
		wantErr string
	}{
		{in: nil, want: DefaultTrustedIPs},
		{in: []string{"10.1.2.3/8"}, want: []coffer.TrustedIP{{IPAddress: "10.0.0.0", Type: "ipv4", Prefix: 8}}},
		{in: []string{"192.168.0.7"}, want: []coffer.TrustedIP{{IPAddress: "192.168.0.7", Type: "ipv4", Prefix: 32}}},
		{in: []string{"2001:db8::1/32"}, want: []coffer.TrustedIP{{IPAddress: "2001:db8::", Type: "ipv6", Prefix: 32}}},
		{in: []string{" 127.0.0.1 "}, want: []coffer.TrustedIP{{IPAddress: "127.0.0.1", Type: "ipv4", Prefix: 32}}},
		{in: []string{"10.0.0.0/33"}, wantErr: "ips[0].ipAddress"},
		{in: []string{"127.0.0.1", "localhost"}, wantErr: "ips[1].ipAddress"},
	} {
		got, err := ParseTrustedIPs("ips", tc.in)
		if tc.wantErr != "" {
			if coffer.ErrorCode(err) != coffer.EVALIDATION || !strings.Contains(coffer.ErrorMessage(err), tc.wantErr) {
				t.Errorf("%v: error %v, want EVALIDATION naming %s", tc.in, err, tc.wantErr)
			}
			continue
		}
		if err != nil || len(got) != len(tc.want) {
			t.Fatalf("%v: %v, %v", tc.in, got, err)
		}
		for i := range got {
			if got[i] != tc.want[i] {
				t.Errorf("%v: got %+v, want %+v", tc.in, got[i], tc.want[i])
			}
		}
	}
}

func TestIPTrusted(t *testing.T) {
	list := func(s ...string) []coffer.TrustedIP {
		l, err := ParseTrustedIPs("ips", s)
		if err != nil {
			t.Fatal(err)
		}
		return l
	}
	for _, tc := range []struct {
		list []coffer.TrustedIP
		ip   string
		want bool
	}{
		{DefaultTrustedIPs, "203.0.113.9", true},
		{DefaultTrustedIPs, "2001:db8::5", true},
		{DefaultTrustedIPs, "", true}, // unknown address: only a trust-all list lets it in
		{list("10.0.0.0/8"), "10.200.1.1", true},
		{list("10.0.0.0/8"), "11.0.0.1", false},
		{list("10.0.0.0/8"), "::ffff:10.0.0.1", true}, // IPv4-mapped IPv6 is the IPv4 address
		{list("10.0.0.0/8"), "", false},
		{list("10.0.0.0/8"), "2001:db8::1", false},
		{list("0.0.0.0/0"), "2001:db8::1", false}, // the IPv4 "any" does not admit IPv6
		{list("127.0.0.1"), "127.0.0.1", true},
		{list("127.0.0.1"), "127.0.0.2", false},
		{nil, "127.0.0.1", false},
	} {
		var ip netip.Addr
		if tc.ip != "" {
			ip = netip.MustParseAddr(tc.ip)
		}
		if got := IPTrusted(tc.list, ip); got != tc.want {
			t.Errorf("IPTrusted(%v, %q) = %v, want %v", tc.list, tc.ip, got, tc.want)
		}
	}
}

func TestPasswordHash(t *testing.T) {
	h, err := HashPassword("correct horse battery staple")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$") || strings.Contains(h, "horse") {
		t.Fatalf("unexpected hash format: %s", h)
	}
	h2, _ := HashPassword("correct horse battery staple")
	if h == h2 {
		t.Error("two hashes of one password are equal: the salt is not random")
	}
	for pw, want := range map[string]bool{"correct horse battery staple": true, "correct horse battery stapl": false, "": false} {
		if got := CheckPassword(h, pw); got != want {
			t.Errorf("CheckPassword(%q) = %v", pw, got)
		}
	}
	for _, bad := range []string{"", "$argon2i$v=19$m=1,t=1,p=1$AA$AA", "$argon2id$v=19$m=x$AA$AA", h[:len(h)-2] + "!!"} {
		if CheckPassword(bad, "correct horse battery staple") {
			t.Errorf("a malformed hash %q was accepted", bad)
		}
	}
}

func TestSignerRejectsForgedTokens(t *testing.T) {
	s := signer{key: []byte(strings.Repeat("k", 32))}
	tok, err := s.sign("token-id", "identity", "subject")
	if err != nil {
		t.Fatal(err)
	}
	if id, err := s.parse(tok); err != nil || id != "token-id" {
		t.Fatalf("parse of a good token: %q, %v", id, err)
	}
	other, _ := signer{key: []byte(strings.Repeat("o", 32))}.sign("token-id", "identity", "subject")
	parts := strings.Split(tok, ".")
	none := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`)) + "." + parts[1] + "."
	hs512, _ := jwt.NewWithClaims(jwt.SigningMethodHS512, jwt.MapClaims{"tid": "token-id", "iss": "coffer"}).SignedString(s.key)
	noID, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"iss": "coffer"}).SignedString(s.key)
	otherIssuer, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"tid": "token-id", "iss": "someone"}).SignedString(s.key)
	for name, bad := range map[string]string{
		"another key": other, "alg none": none, "HS512": hs512, "no token id": noID, "another issuer": otherIssuer,
		"truncated": tok[:len(tok)-3], "empty": "", "garbage": "not.a.token",
	} {
		if _, err := s.parse(bad); err == nil {
			t.Errorf("%s: accepted", name)
		} else if bad != "" && strings.Contains(err.Error(), bad) {
			t.Errorf("%s: the error quotes the token", name)
		}
	}
}
