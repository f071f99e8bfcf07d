package coffer

import (
	"context"
	"strings"
)

// MaxTrustedVPCEndpointIDs bounds an identity's list of trusted VPC endpoints.
const MaxTrustedVPCEndpointIDs = 64

type vpcEndpointKey struct{}

// NewContextWithVPCEndpointID returns a context carrying the AWS VPC endpoint id (vpce-…) that
// the request came through: the PrivateLink endpoint named by the PROXY protocol header of a
// trusted load balancer.
func NewContextWithVPCEndpointID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, vpcEndpointKey{}, id)
}

// VPCEndpointIDFromContext returns the request's VPC endpoint id, "" when it did not come
// through one (or not through a trusted PROXY protocol sender).
func VPCEndpointIDFromContext(ctx context.Context) string {
	id, _ := ctx.Value(vpcEndpointKey{}).(string)
	return id
}

// ValidVPCEndpointID reports whether s has the form of an AWS VPC endpoint id: "vpce-" and 8 or
// 17 lowercase hexadecimal digits.
func ValidVPCEndpointID(s string) bool {
	hex, ok := strings.CutPrefix(s, "vpce-")
	if !ok || len(hex) != 8 && len(hex) != 17 {
		return false
	}
	return strings.Trim(hex, "0123456789abcdef") == ""
}

// VPCEndpointTrusted reports whether a request that came through the VPC endpoint id (""
// for none) may use a credential limited to list: an empty list trusts every origin.
func VPCEndpointTrusted(list []string, id string) bool {
	if len(list) == 0 {
		return true
	}
	for _, v := range list {
		if id != "" && v == id {
			return true
		}
	}
	return false
}
