package store

import "encoding/json"

// vpceJSON encodes an identity's trusted VPC endpoint ids for the trusted_vpc_endpoint_ids
// column: a JSON array, "[]" for none.
func vpceJSON(ids []string) string {
	if len(ids) == 0 {
		return "[]"
	}
	b, _ := json.Marshal(ids)
	return string(b)
}

// parseVPCEJSON decodes the trusted_vpc_endpoint_ids column; none is nil.
func parseVPCEJSON(s string) ([]string, error) {
	var ids []string
	if err := json.Unmarshal([]byte(s), &ids); err != nil {
		return nil, err
	}
	if len(ids) == 0 {
		return nil, nil
	}
	return ids, nil
}
