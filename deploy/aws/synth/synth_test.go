package synth

import (
	"io"
	"strings"
	"testing"

	"github.com/cofferhq/coffer/deploy/aws/infra"
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

// TestParse: flags and CDK context (as `cdk synth -c` and cdk.json hand them over) become the
// stacks' options; a flag wins over the context.
func TestParse(t *testing.T) {
	t.Setenv("CDK_OUTDIR", "/tmp/from-cdk")
	t.Setenv("CDK_CONTEXT_JSON", `{"azs":2,"singleNat":"true","nlbMode":"tcp","principals":["arn:aws:iam::111122223333:root","arn:aws:iam::444455556666:role/r"],"publicCidrs":"203.0.113.0/24","drain":"20s"}`)
	out, pub, priv, err := parse([]string{"synth", "--air-gapped", "--azs", "3"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if out != "/tmp/from-cdk" {
		t.Errorf("out %q", out)
	}
	for _, o := range []struct {
		name      string
		got, want any
	}{
		{"public variant", pub.Variant, infra.Public},
		{"private variant", priv.Variant, infra.Private},
		{"azs (flag over context)", pub.AZs, 3},
		{"single NAT", pub.SingleNAT, true},
		{"air-gapped", priv.AirGapped, true},
		{"nlb mode", priv.NLBMode, infra.NLBTCP},
		{"drain", pub.Drain.String(), "20s"},
		{"public CIDRs", strings.Join(pub.AllowedCIDRs, ","), "203.0.113.0/24"},
		{"private CIDRs", len(priv.AllowedCIDRs), 0},
		{"principals", strings.Join(priv.AllowedPrincipals, ","), "arn:aws:iam::111122223333:root,arn:aws:iam::444455556666:role/r"},
		{"vpc", pub.VPCCIDR, "10.40.0.0/16"},
	} {
		if o.got != o.want {
			t.Errorf("%s: %v, want %v", o.name, o.got, o.want)
		}
	}
}
