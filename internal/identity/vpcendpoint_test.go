package identity

import (
	"reflect"
	"strings"
	"testing"

	"github.com/cofferhq/coffer"
)

func TestParseVPCEndpointIDs(t *testing.T) {
	for _, tc := range []struct {
		name    string
		in      []string
		want    []string
		wantErr string // part of the message; "" for none
	}{
		{name: "none means any", in: nil, want: nil},
		{name: "empty list means any", in: []string{}, want: nil},
		{name: "17 hex digits", in: []string{"vpce-0123456789abcdef0"}, want: []string{"vpce-0123456789abcdef0"}},
		{name: "8 hex digits, trimmed, sorted, deduplicated", in: []string{" vpce-1234abcd", "vpce-0123456789abcdef0", "vpce-1234abcd"},
			want: []string{"vpce-0123456789abcdef0", "vpce-1234abcd"}},
		{name: "upper case", in: []string{"vpce-0123456789ABCDEF0"}, wantErr: "trustedVpcEndpointIds[0]"},
		{name: "wrong prefix", in: []string{"vpce-1234abcd", "vpc-1234abcd"}, wantErr: "trustedVpcEndpointIds[1]"},
		{name: "wrong length", in: []string{"vpce-123"}, wantErr: "not a VPC endpoint id"},
		{name: "not hex", in: []string{"vpce-0123456789abcdefg"}, wantErr: "trustedVpcEndpointIds[0]"},
		{name: "empty entry", in: []string{""}, wantErr: "trustedVpcEndpointIds[0]"},
		{name: "too many", in: strings.Fields(strings.Repeat("vpce-1234abcd ", coffer.MaxTrustedVPCEndpointIDs+1)), wantErr: "at most"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseVPCEndpointIDs("trustedVpcEndpointIds", tc.in)
			if tc.wantErr != "" {
				if coffer.ErrorCode(err) != coffer.EVALIDATION || !strings.Contains(err.Error(), tc.wantErr) {
					t.Errorf("err = %v; want a validation error with %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, tc.want) {
				t.Errorf("= %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}

func TestVPCEndpointTrusted(t *testing.T) {
	list := []string{"vpce-0123456789abcdef0"}
	for _, tc := range []struct {
		list []string
		from string
		want bool
	}{
		{nil, "", true},
		{nil, "vpce-1234abcd", true},
		{list, "vpce-0123456789abcdef0", true},
		{list, "vpce-1234abcd", false},
		{list, "", false},
	} {
		if got := coffer.VPCEndpointTrusted(tc.list, tc.from); got != tc.want {
			t.Errorf("VPCEndpointTrusted(%q, %q) = %v, want %v", tc.list, tc.from, got, tc.want)
		}
	}
}
