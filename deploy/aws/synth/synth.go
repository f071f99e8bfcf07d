// Package synth turns the two Coffer stacks into CloudFormation templates on disk. It is the
// command line of deploy/aws and what the tests call; it never talks to AWS.
package synth

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"

	"github.com/cofferhq/coffer/deploy/aws/infra"
)

// Stack ids: the templates are written as ID.template.json.
const (
	PublicStack  = "public"
	PrivateStack = "private"
)

// Run synthesizes the public and private stacks with the given options into outdir and
// returns the paths of the two templates.
func Run(outdir string, pub, priv infra.Options) (public, private string, err error) {
	// jsii runs the CDK in node and turns its exceptions into panics.
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%v", r)
		}
	}()
	if err := pub.Validate(); err != nil {
		return "", "", fmt.Errorf("public: %w", err)
	}
	if err := priv.Validate(); err != nil {
		return "", "", fmt.Errorf("private: %w", err)
	}
	app := awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String(outdir)})
	if _, err := infra.NewStack(app, PublicStack, pub); err != nil {
		return "", "", fmt.Errorf("public: %w", err)
	}
	if _, err := infra.NewStack(app, PrivateStack, priv); err != nil {
		return "", "", fmt.Errorf("private: %w", err)
	}
	asm := app.Synth(nil)
	dir := *asm.Directory()
	return dir + "/" + PublicStack + ".template.json", dir + "/" + PrivateStack + ".template.json", nil
}

// Main is the command line: `synth --out DIR [flags]`, or no argument at all (as `cdk synth`
// runs it) to write into $CDK_OUTDIR or ./cdk.out, with the CDK context (-c key=value)
// supplying the options.
func Main(args []string) error {
	return main(args, os.Stdout, os.Stderr)
}

func main(args []string, stdout, stderr io.Writer) error {
	out, pub, priv, err := parse(args, stderr)
	if err != nil {
		return err
	}
	start := time.Now()
	p1, p2, err := Run(out, pub, priv)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s\n%s\n(synthesized in %s)\n", p1, p2, time.Since(start).Round(10*time.Millisecond))
	return nil
}

// parse turns the command line and the CDK context into the output directory and the two
// stacks' options; flags win over context values.
func parse(args []string, stderr io.Writer) (out string, pub, priv infra.Options, err error) {
	ctx := context()
	out = os.Getenv("CDK_OUTDIR")
	if out == "" {
		out = "cdk.out"
	}
	fs := flag.NewFlagSet("synth", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&out, "out", out, "directory the templates are written to")
	azs := fs.Int("azs", ctx.int("azs", 3), "availability zones: 2 or 3")
	singleNAT := fs.Bool("single-nat", ctx.bool("singleNat"), "one NAT gateway instead of one per AZ")
	airGapped := fs.Bool("air-gapped", ctx.bool("airGapped"), "no NAT: VPC endpoints for every AWS API the tasks call")
	nlbMode := fs.String("nlb-mode", ctx.str("nlbMode", infra.NLBTLS), "private variant: tls (the NLB terminates TLS) or tcp (PROXY protocol v2, Coffer terminates TLS)")
	publicCIDRs := fs.String("public-cidrs", ctx.str("publicCidrs", ""), "comma-separated CIDRs allowed to the ALB (default 0.0.0.0/0)")
	privateCIDRs := fs.String("private-cidrs", ctx.str("privateCidrs", ""), "comma-separated CIDRs allowed to the NLB from inside the VPC (default the VPC CIDR)")
	principals := fs.String("principals", ctx.str("principals", ""), "comma-separated ARNs allowed to connect to the endpoint service (default this account)")
	vpcCIDR := fs.String("vpc-cidr", ctx.str("vpcCidr", "10.40.0.0/16"), "VPC IPv4 block")
	drain := fs.Duration("drain", ctx.duration("drain", 15*time.Second), "Coffer's COFFER_SHUTDOWN_DRAIN; the deregistration delay is 5s longer")
	if len(args) > 0 {
		if args[0] != "synth" {
			return "", pub, priv, fmt.Errorf("unknown command %q: the only command is synth", args[0])
		}
		args = args[1:]
	}
	if err := fs.Parse(args); err != nil {
		return "", pub, priv, err
	}
	if fs.NArg() > 0 {
		return "", pub, priv, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if ctx.err != nil {
		return "", pub, priv, ctx.err
	}
	shape := func(v infra.Variant, cidrs string) infra.Options {
		o := infra.Defaults(v)
		o.AZs, o.SingleNAT, o.AirGapped, o.NLBMode = *azs, *singleNAT, *airGapped, *nlbMode
		o.VPCCIDR, o.Drain = *vpcCIDR, *drain
		o.AllowedCIDRs = list(cidrs)
		o.AllowedPrincipals = list(*principals)
		return o
	}
	return out, shape(infra.Public, *publicCIDRs), shape(infra.Private, *privateCIDRs), nil
}

func list(s string) []string {
	var out []string
	for _, v := range strings.Split(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}

// cdkContext is the context `cdk synth -c key=value` hands the app in CDK_CONTEXT_JSON.
type cdkContext struct {
	m   map[string]any
	err error
}

func context() *cdkContext {
	c := &cdkContext{m: map[string]any{}}
	if s := os.Getenv("CDK_CONTEXT_JSON"); s != "" {
		c.err = json.Unmarshal([]byte(s), &c.m)
	}
	return c
}

func (c *cdkContext) str(k, def string) string {
	switch v := c.m[k].(type) {
	case nil:
		return def
	case string:
		return v
	case []any: // a JSON list in cdk.json: principals, CIDRs
		var parts []string
		for _, x := range v {
			parts = append(parts, fmt.Sprint(x))
		}
		return strings.Join(parts, ",")
	default:
		return fmt.Sprint(v)
	}
}

func (c *cdkContext) int(k string, def int) int {
	s := c.str(k, "")
	if s == "" {
		return def
	}
	var n int
	if _, err := fmt.Sscan(s, &n); err != nil {
		c.err = errors.Join(c.err, fmt.Errorf("context %s: %q is not a number", k, s))
	}
	return n
}

func (c *cdkContext) bool(k string) bool {
	s := c.str(k, "false")
	if s != "true" && s != "false" {
		c.err = errors.Join(c.err, fmt.Errorf("context %s: %q is neither true nor false", k, s))
	}
	return s == "true"
}

func (c *cdkContext) duration(k string, def time.Duration) time.Duration {
	s := c.str(k, "")
	if s == "" {
		return def
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		c.err = errors.Join(c.err, fmt.Errorf("context %s: %q is not a duration", k, s))
	}
	return d
}
