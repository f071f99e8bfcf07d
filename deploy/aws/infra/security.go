package infra

import (
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// securityGroups are every security group of the deployment. Their inbound rules are the only
// way in, and they are all written here:
//
//	lb        443 (and 80, public variant: redirect only) from the allowed CIDRs
//	ecs       AppPort from lb and from itself
//	rds       5432 from ecs and bastion
//	redis     6379 from ecs
//	bastion   nothing
//	endpoints 443 from ecs and bastion, 587 (SES SMTP) from ecs (air-gapped only)
type securityGroups struct {
	lb, ecs, rds, redis, bastion, endpoints awsec2.SecurityGroup
}

func newSecurityGroups(scope constructs.Construct, opts Options, n *network) *securityGroups {
	sg := func(id, desc string) awsec2.SecurityGroup {
		return awsec2.NewSecurityGroup(scope, jsii.String(id), &awsec2.SecurityGroupProps{
			Vpc: n.vpc, Description: jsii.String(desc), AllowAllOutbound: jsii.Bool(false),
		})
	}
	tcp := func(p float64) awsec2.Port { return awsec2.Port_Tcp(jsii.Number(p)) }
	anyIPv4 := awsec2.Peer_AnyIpv4()
	s := &securityGroups{
		lb:      sg("LoadBalancerSG", "Coffer load balancer: 443 from the allowed CIDRs"),
		ecs:     sg("ServiceSG", "Coffer tasks: the app port from the load balancer and from each other"),
		rds:     sg("DatabaseSG", "Coffer PostgreSQL: 5432 from the tasks and the bastion"),
		redis:   sg("RedisSG", "Coffer Redis: 6379 from the tasks"),
		bastion: sg("BastionSG", "Coffer bastion: no inbound, managed through SSM Session Manager"),
	}
	for _, c := range opts.ingressCIDRs() {
		s.lb.AddIngressRule(awsec2.Peer_Ipv4(jsii.String(c)), tcp(443), jsii.String("HTTPS from "+c), jsii.Bool(false))
		if opts.Variant == Public {
			s.lb.AddIngressRule(awsec2.Peer_Ipv4(jsii.String(c)), tcp(80), jsii.String("HTTP from "+c+", redirected to HTTPS"), jsii.Bool(false))
		}
	}
	s.lb.AddEgressRule(s.ecs, tcp(AppPort), jsii.String("to the tasks"), jsii.Bool(false))
	// Its only egress rule is a separate resource, so CDK leaves the group's inline egress
	// empty, and EC2 would then keep its default allow-all egress rule. The no-traffic
	// placeholder removes that default.
	noDefaultEgress(s.lb)

	s.ecs.AddIngressRule(s.lb, tcp(AppPort), jsii.String("from the load balancer"), jsii.Bool(false))
	s.ecs.AddIngressRule(s.ecs, tcp(AppPort), jsii.String("from other tasks"), jsii.Bool(false))
	s.ecs.AddEgressRule(anyIPv4, tcp(443), jsii.String("AWS APIs (ECR, Logs, SSM, Secrets Manager, KMS)"), jsii.Bool(false))
	s.ecs.AddEgressRule(anyIPv4, tcp(587), jsii.String("SES SMTP"), jsii.Bool(false))
	s.ecs.AddEgressRule(s.rds, tcp(5432), jsii.String("PostgreSQL"), jsii.Bool(false))
	s.ecs.AddEgressRule(s.redis, tcp(6379), jsii.String("Redis"), jsii.Bool(false))

	s.rds.AddIngressRule(s.ecs, tcp(5432), jsii.String("from the tasks"), jsii.Bool(false))
	s.rds.AddIngressRule(s.bastion, tcp(5432), jsii.String("from the bastion"), jsii.Bool(false))
	s.redis.AddIngressRule(s.ecs, tcp(6379), jsii.String("from the tasks"), jsii.Bool(false))

	s.bastion.AddEgressRule(anyIPv4, tcp(443), jsii.String("SSM Session Manager"), jsii.Bool(false))
	s.bastion.AddEgressRule(s.rds, tcp(5432), jsii.String("PostgreSQL"), jsii.Bool(false))

	if opts.AirGapped {
		s.endpoints = sg("EndpointSG", "Coffer VPC interface endpoints: 443 from the tasks and the bastion")
		s.endpoints.AddIngressRule(s.ecs, tcp(443), jsii.String("from the tasks"), jsii.Bool(false))
		s.endpoints.AddIngressRule(s.bastion, tcp(443), jsii.String("from the bastion"), jsii.Bool(false))
		s.endpoints.AddIngressRule(s.ecs, tcp(587), jsii.String("SES SMTP from the tasks"), jsii.Bool(false))
	}
	return s
}

// noDefaultEgress gives sg an inline egress rule matching no traffic, which makes EC2 drop the
// default allow-all egress rule of a new group.
func noDefaultEgress(sg awsec2.SecurityGroup) {
	sg.Node().DefaultChild().(awsec2.CfnSecurityGroup).AddPropertyOverride(jsii.String("SecurityGroupEgress"), []map[string]interface{}{{
		"CidrIp": "255.255.255.255/32", "Description": "Disallow all traffic",
		"IpProtocol": "icmp", "FromPort": 252, "ToPort": 86,
	}})
}
