// Package infra is Coffer's AWS reference deployment as one CDK construct: the network, a
// public (ALB) or private (NLB + PrivateLink) entrance, the ECS Fargate service, RDS
// PostgreSQL with a read replica, ElastiCache Redis, SES and an SSM-only bastion.
//
// It synthesizes plain CloudFormation: no CDK bootstrap, no assets. Whatever differs between
// accounts (image, certificate, SSM parameter names, domain) is a CloudFormation parameter;
// whatever changes the shape of the template (AZ count, NAT, air gap, NLB mode, allowed CIDRs
// and principals) is an Options field. It must never open anything beyond the security-group
// rules listed in the README: the tests in this package read every rule back from the template.
package infra

import (
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// Variant is the entrance to the service.
type Variant string

// The two variants.
const (
	Public  Variant = "public"  // internet-facing ALB terminating TLS
	Private Variant = "private" // internal NLB published as a VPC endpoint service
)

// NLB modes of the private variant.
const (
	NLBTLS = "tls" // the NLB terminates TLS with the ACM certificate; plain TCP to Coffer
	NLBTCP = "tcp" // TCP pass-through with PROXY protocol v2; Coffer terminates TLS itself
)

// AppPort is the port Coffer listens on inside the task (COFFER_LISTEN=0.0.0.0:8080).
const AppPort = 8080

// Options shape the template. The zero value is not valid: start from Defaults.
type Options struct {
	Variant Variant
	// AZs is the number of availability zones, 2 or 3. With 3 the read replica lives in an AZ
	// the primary's subnet group does not cover.
	AZs int
	// SingleNAT uses one NAT gateway instead of one per AZ (cheaper, one AZ's NAT is then a
	// single point of failure for outbound traffic).
	SingleNAT bool
	// AirGapped drops NAT entirely: the tasks and the bastion reach AWS only through VPC
	// endpoints (ECR, CloudWatch Logs, SSM, Secrets Manager, KMS, STS, SES SMTP, S3).
	AirGapped bool
	// NLBMode is NLBTLS or NLBTCP (private variant only).
	NLBMode string
	// AllowedCIDRs may reach the load balancer on 443 (and 80 for the redirect, public
	// variant). Empty means 0.0.0.0/0 for the public variant and the VPC CIDR for the private.
	AllowedCIDRs []string
	// AllowedPrincipals are the ARNs (accounts as arn:aws:iam::123456789012:root, or roles)
	// allowed to create endpoints to the private variant's endpoint service. Empty means the
	// deploying account only.
	AllowedPrincipals []string
	// VPCCIDR is the VPC's IPv4 block (a /16 to /20).
	VPCCIDR string
	// Drain is Coffer's COFFER_SHUTDOWN_DRAIN; the target group's deregistration delay is
	// Drain+5s so the load balancer stops sending before Coffer stops serving.
	Drain time.Duration
	// DBInstanceClass and CacheNodeType size the data tier.
	DBInstanceClass string
	CacheNodeType   string
	// TaskCPU (units) and TaskMemoryMiB size one Fargate task.
	TaskCPU       int
	TaskMemoryMiB int
	// LogRetentionDays keeps the service's and the flow logs' log groups this long.
	LogRetentionDays int
}

// Defaults returns the reference options for a variant: 3 AZs, a NAT gateway per AZ,
// 15s drain, TLS at the NLB.
func Defaults(v Variant) Options {
	return Options{
		Variant:          v,
		AZs:              3,
		NLBMode:          NLBTLS,
		VPCCIDR:          "10.40.0.0/16",
		Drain:            15 * time.Second,
		DBInstanceClass:  "db.m7g.large",
		CacheNodeType:    "cache.m7g.large",
		TaskCPU:          1024,
		TaskMemoryMiB:    2048,
		LogRetentionDays: 365,
	}
}

// Validate reports the first option that cannot be synthesized.
func (o Options) Validate() error {
	switch {
	case o.Variant != Public && o.Variant != Private:
		return fmt.Errorf("variant: %q is neither public nor private", o.Variant)
	case o.AZs != 2 && o.AZs != 3:
		return fmt.Errorf("azs: %d is not 2 or 3", o.AZs)
	case o.NLBMode != NLBTLS && o.NLBMode != NLBTCP:
		return fmt.Errorf("nlb-mode: %q is neither tls nor tcp", o.NLBMode)
	case o.Drain <= 0 || o.Drain > 10*time.Minute:
		return fmt.Errorf("drain: %s is not between 1s and 10m", o.Drain)
	case o.TaskCPU <= 0 || o.TaskMemoryMiB <= 0 || o.LogRetentionDays <= 0:
		return fmt.Errorf("task-cpu, task-memory and log-retention must be positive")
	case o.DBInstanceClass == "" || o.CacheNodeType == "":
		return fmt.Errorf("db-instance-class and cache-node-type must be set")
	}
	vpc, err := netip.ParsePrefix(o.VPCCIDR)
	if err != nil || !vpc.Addr().Is4() || vpc.Bits() < 16 || vpc.Bits() > 20 {
		return fmt.Errorf("vpc-cidr: %q is not an IPv4 block between /16 and /20", o.VPCCIDR)
	}
	for _, c := range o.AllowedCIDRs {
		if _, err := netip.ParsePrefix(c); err != nil {
			return fmt.Errorf("allowed-cidrs: %q is not a CIDR block", c)
		}
	}
	for _, p := range o.AllowedPrincipals {
		if !strings.HasPrefix(p, "arn:") {
			return fmt.Errorf("allowed-principals: %q is not an ARN", p)
		}
	}
	return nil
}

// ingressCIDRs returns who may reach the load balancer.
func (o Options) ingressCIDRs() []string {
	if len(o.AllowedCIDRs) > 0 {
		return o.AllowedCIDRs
	}
	if o.Variant == Public {
		return []string{"0.0.0.0/0"}
	}
	return []string{o.VPCCIDR}
}

// deregistrationDelay is the drain plus a margin, in whole seconds.
func (o Options) deregistrationDelay() float64 {
	return (o.Drain + 5*time.Second).Round(time.Second).Seconds()
}

// Coffer is the whole deployment inside one stack.
type Coffer struct {
	constructs.Construct
	opts   Options
	params *params
	net    *network
	sgs    *securityGroups
	data   *dataTier
	svc    *service
}

// New adds the deployment to scope (normally a Stack of its own).
func New(scope constructs.Construct, id string, opts Options) (*Coffer, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	c := &Coffer{Construct: constructs.NewConstruct(scope, jsii.String(id)), opts: opts}
	c.params = newParams(c.Construct, opts)
	c.net = newNetwork(c.Construct, opts)
	c.sgs = newSecurityGroups(c.Construct, opts, c.net)
	c.net.addEndpoints(c.Construct, opts, c.sgs)
	c.data = newDataTier(c.Construct, opts, c.net, c.sgs)
	c.data.outputs(c.Construct)
	c.svc = newService(c.Construct, opts, c.params, c.net, c.sgs, c.data)
	if opts.Variant == Public {
		newPublicEntrance(c.Construct, opts, c.params, c.net, c.sgs, c.svc)
	} else {
		newPrivateEntrance(c.Construct, opts, c.params, c.net, c.sgs, c.svc)
	}
	newEmail(c.Construct, c.params)
	newBastion(c.Construct, c.net, c.sgs)
	return c, nil
}

// NewStack returns a stack holding one deployment, synthesized without bootstrap: no
// BootstrapVersion parameter or rule, no CDK metadata resource, and an error at synth if
// anything tries to add an asset.
func NewStack(app awscdk.App, id string, opts Options) (awscdk.Stack, error) {
	stack := awscdk.NewStack(app, jsii.String(id), &awscdk.StackProps{
		Description:        jsii.String(fmt.Sprintf("Coffer secrets manager, %s variant (reference deployment)", opts.Variant)),
		Synthesizer:        awscdk.NewBootstraplessSynthesizer(&awscdk.BootstraplessSynthesizerProps{}),
		AnalyticsReporting: jsii.Bool(false),
	})
	if _, err := New(stack, "Coffer", opts); err != nil {
		return nil, err
	}
	awscdk.Tags_Of(stack).Add(jsii.String("app"), jsii.String("coffer"), nil)
	awscdk.Tags_Of(stack).Add(jsii.String("coffer:variant"), jsii.String(string(opts.Variant)), nil)
	return stack, nil
}
