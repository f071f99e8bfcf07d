package identity

import (
	"slices"
	"strings"

	"github.com/cofferhq/coffer"
)

// ParseVPCEndpointIDs validates a list of AWS VPC endpoint ids given by a client (field names
// it in errors) and returns it sorted without duplicates. An empty list means any origin.
func ParseVPCEndpointIDs(field string, in []string) ([]string, error) {
	if len(in) > coffer.MaxTrustedVPCEndpointIDs {
		return nil, coffer.Errorf(coffer.EVALIDATION, "%s: at most %d entries", field, coffer.MaxTrustedVPCEndpointIDs)
	}
	out := make([]string, 0, len(in))
	for i, s := range in {
		s = strings.TrimSpace(s)
		if !coffer.ValidVPCEndpointID(s) {
			return nil, coffer.Errorf(coffer.EVALIDATION, "%s[%d]: %q is not a VPC endpoint id (vpce- followed by 8 or 17 lowercase hexadecimal digits)", field, i, s)
		}
		out = append(out, s)
	}
	slices.Sort(out)
	out = slices.Compact(out)
	if len(out) == 0 {
		return nil, nil
	}
	return out, nil
}
