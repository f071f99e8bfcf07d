package synth

import (
	"io"
	"strings"
	"testing"
)

// TestMainRejectsBadInput: arguments and options are checked before anything is synthesized
// (so these cases need no node).
func TestMainRejectsBadInput(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		env  string
		want string
	}{
		{"unknown command", []string{"deploy"}, "", `unknown command "deploy"`},
		{"stray argument", []string{"synth", "extra"}, "", `unexpected argument "extra"`},
		{"azs", []string{"synth", "--azs", "4"}, "", "azs: 4 is not 2 or 3"},
		{"nlb mode", []string{"synth", "--nlb-mode", "udp"}, "", `nlb-mode: "udp" is neither tls nor tcp`},
		{"cidr", []string{"synth", "--public-cidrs", "10.0.0.0/8,nonsense"}, "", `allowed-cidrs: "nonsense" is not a CIDR block`},
		{"principal", []string{"synth", "--principals", "123456789012"}, "", `allowed-principals: "123456789012" is not an ARN`},
		{"vpc cidr", []string{"synth", "--vpc-cidr", "10.0.0.0/8"}, "", `vpc-cidr: "10.0.0.0/8" is not an IPv4 block between /16 and /20`},
		{"drain", []string{"synth", "--drain", "0s"}, "", "drain: 0s is not between 1s and 10m"},
		{"context", nil, `{"singleNat":"yes"}`, `context singleNat: "yes" is neither true nor false`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("CDK_CONTEXT_JSON", tc.env)
			t.Setenv("CDK_OUTDIR", t.TempDir())
			err := main(tc.args, io.Discard, io.Discard)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}
