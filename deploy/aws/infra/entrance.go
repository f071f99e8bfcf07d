package infra

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsecs"
	elb "github.com/aws/aws-cdk-go/awscdk/v2/awselasticloadbalancingv2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/aws-cdk-go/awscdk/v2/regioninfo"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// hsts is the Strict-Transport-Security header Coffer itself sends over HTTPS.
const hsts = "max-age=63072000; includeSubDomains"

// newLogBucket is the load balancer's access-log bucket: private, TLS only (its policy),
// SSE-S3 (the only encryption ELB log delivery supports), expiring after a year.
func newLogBucket(scope constructs.Construct) awss3.Bucket {
	return awss3.NewBucket(scope, jsii.String("AccessLogs"), &awss3.BucketProps{
		Encryption:        awss3.BucketEncryption_S3_MANAGED,
		BlockPublicAccess: awss3.BlockPublicAccess_BLOCK_ALL(),
		Versioned:         jsii.Bool(true),
		ObjectOwnership:   awss3.ObjectOwnership_BUCKET_OWNER_ENFORCED,
		LifecycleRules: &[]*awss3.LifecycleRule{{
			Expiration:                  awscdk.Duration_Days(jsii.Number(365)),
			NoncurrentVersionExpiration: awscdk.Duration_Days(jsii.Number(30)),
		}},
		RemovalPolicy: awscdk.RemovalPolicy_RETAIN,
	})
}

// tlsPolicy is ELBSecurityPolicy-TLS13-1-2-2021-06: TLS 1.2 and 1.3 only.
const tlsPolicy = elb.SslPolicy_RECOMMENDED_TLS

func healthCheck(protocol elb.Protocol) *elb.HealthCheck {
	return &elb.HealthCheck{
		Protocol:                protocol,
		Path:                    jsii.String("/readyz"),
		HealthyHttpCodes:        jsii.String("200"),
		Interval:                awscdk.Duration_Seconds(jsii.Number(10)),
		Timeout:                 awscdk.Duration_Seconds(jsii.Number(5)),
		HealthyThresholdCount:   jsii.Number(2),
		UnhealthyThresholdCount: jsii.Number(2),
	}
}

// newPublicEntrance is the internet-facing ALB: HTTPS on 443, 80 only redirecting to 443,
// access logs in S3, invalid headers dropped.
func newPublicEntrance(scope constructs.Construct, opts Options, p *params, n *network, sgs *securityGroups, s *service) {
	stack := awscdk.Stack_Of(scope)
	logs := newLogBucket(scope)
	alb := elb.NewApplicationLoadBalancer(scope, jsii.String("LoadBalancer"), &elb.ApplicationLoadBalancerProps{
		Vpc:                     n.vpc,
		InternetFacing:          jsii.Bool(true),
		VpcSubnets:              n.subnets(subnetPublic),
		SecurityGroup:           sgs.lb,
		DropInvalidHeaderFields: jsii.Bool(true),
		DeletionProtection:      jsii.Bool(true),
		DesyncMitigationMode:    elb.DesyncMitigationMode_STRICTEST,
	})
	accessLogs(scope, alb, logs)
	tg := elb.NewApplicationTargetGroup(scope, jsii.String("Targets"), &elb.ApplicationTargetGroupProps{
		Vpc:                 n.vpc,
		Port:                jsii.Number(AppPort),
		Protocol:            elb.ApplicationProtocol_HTTP,
		TargetType:          elb.TargetType_IP,
		HealthCheck:         healthCheck(elb.Protocol_HTTP),
		DeregistrationDelay: awscdk.Duration_Seconds(jsii.Number(opts.deregistrationDelay())),
		Targets:             &[]elb.IApplicationLoadBalancerTarget{s.svc},
	})
	https := alb.AddListener(jsii.String("Https"), &elb.BaseApplicationListenerProps{
		Port:                jsii.Number(443),
		Protocol:            elb.ApplicationProtocol_HTTPS,
		Certificates:        &[]elb.IListenerCertificate{elb.ListenerCertificate_FromArn(p.certificateARN)},
		SslPolicy:           tlsPolicy,
		Open:                jsii.Bool(false), // true would add 443 from 0.0.0.0/0 whatever AllowedCIDRs says
		DefaultTargetGroups: &[]elb.IApplicationTargetGroup{tg},
	})
	// Coffer sends HSTS only when it serves HTTPS itself; behind the ALB the ALB adds it.
	https.Node().DefaultChild().(elb.CfnListener).AddPropertyOverride(jsii.String("ListenerAttributes"), []map[string]string{{
		"Key": "routing.http.response.strict_transport_security.header_value", "Value": hsts,
	}})
	alb.AddRedirect(&elb.ApplicationLoadBalancerRedirectConfig{
		SourcePort: jsii.Number(80), SourceProtocol: elb.ApplicationProtocol_HTTP,
		TargetPort: jsii.Number(443), TargetProtocol: elb.ApplicationProtocol_HTTPS,
		Open: jsii.Bool(false),
	})
	s.scaling.ScaleOnRequestCount(jsii.String("Requests"), &awsecs.RequestCountScalingProps{
		RequestsPerTarget: jsii.Number(1000),
		TargetGroup:       tg,
	})
	awscdk.NewCfnOutput(stack, jsii.String("LoadBalancerDnsName"), &awscdk.CfnOutputProps{
		Description: jsii.String("Point the site's DNS name (CNAME or Route 53 alias) here."),
		Value:       alb.LoadBalancerDnsName(),
	})
	awscdk.NewCfnOutput(stack, jsii.String("LoadBalancerHostedZoneId"), &awscdk.CfnOutputProps{Value: alb.LoadBalancerCanonicalHostedZoneId()})
	awscdk.NewCfnOutput(stack, jsii.String("AccessLogsBucket"), &awscdk.CfnOutputProps{Value: logs.BucketName()})
}

// newPrivateEntrance is the internal NLB published as a VPC endpoint service that only the
// allowed principals may connect to, each connection accepted by hand.
func newPrivateEntrance(scope constructs.Construct, opts Options, p *params, n *network, sgs *securityGroups, s *service) {
	stack := awscdk.Stack_Of(scope)
	nlb := elb.NewNetworkLoadBalancer(scope, jsii.String("LoadBalancer"), &elb.NetworkLoadBalancerProps{
		Vpc:                n.vpc,
		InternetFacing:     jsii.Bool(false),
		VpcSubnets:         n.subnets(subnetApp),
		SecurityGroups:     &[]awsec2.ISecurityGroup{sgs.lb},
		CrossZoneEnabled:   jsii.Bool(true),
		DeletionProtection: jsii.Bool(true),
		// PrivateLink consumers are gated by the allowed principals and manual acceptance;
		// the security group's CIDR rules apply to callers inside this VPC.
		EnforceSecurityGroupInboundRulesOnPrivateLinkTraffic: jsii.Bool(false),
	})
	nlbAccessLogs(scope, nlb, newLogBucket(scope))
	hc := healthCheck(elb.Protocol_HTTP)
	listener := &elb.BaseNetworkListenerProps{Port: jsii.Number(443)}
	if opts.NLBMode == NLBTLS {
		listener.Protocol = elb.Protocol_TLS
		listener.Certificates = &[]elb.IListenerCertificate{elb.ListenerCertificate_FromArn(p.certificateARN)}
		listener.SslPolicy = tlsPolicy
	} else {
		listener.Protocol = elb.Protocol_TCP
		hc = healthCheck(elb.Protocol_HTTPS)
	}
	tg := elb.NewNetworkTargetGroup(scope, jsii.String("Targets"), &elb.NetworkTargetGroupProps{
		Vpc:                   n.vpc,
		Port:                  jsii.Number(AppPort),
		Protocol:              elb.Protocol_TCP,
		TargetType:            elb.TargetType_IP,
		HealthCheck:           hc,
		DeregistrationDelay:   awscdk.Duration_Seconds(jsii.Number(opts.deregistrationDelay())),
		ConnectionTermination: jsii.Bool(true),
		ProxyProtocolV2:       jsii.Bool(opts.NLBMode == NLBTCP),
		Targets:               &[]elb.INetworkLoadBalancerTarget{s.svc},
	})
	listener.DefaultTargetGroups = &[]elb.INetworkTargetGroup{tg}
	nlb.AddListener(jsii.String("Listener"), listener)
	s.scaling.ScaleOnMemoryUtilization(jsii.String("Memory"), &awsecs.MemoryUtilizationScalingProps{
		TargetUtilizationPercent: jsii.Number(75),
	})
	var principals []awsiam.ArnPrincipal
	for _, a := range opts.AllowedPrincipals {
		principals = append(principals, awsiam.NewArnPrincipal(jsii.String(a)))
	}
	if len(principals) == 0 {
		principals = append(principals, awsiam.NewAccountRootPrincipal())
	}
	es := awsec2.NewVpcEndpointService(scope, jsii.String("EndpointService"), &awsec2.VpcEndpointServiceProps{
		VpcEndpointServiceLoadBalancers: &[]awsec2.IVpcEndpointServiceLoadBalancer{nlb},
		AcceptanceRequired:              jsii.Bool(true),
		AllowedPrincipals:               &principals,
	})
	awscdk.NewCfnOutput(stack, jsii.String("EndpointServiceName"), &awscdk.CfnOutputProps{
		Description: jsii.String("Consumers create an interface endpoint to this service name; accept each connection."),
		Value:       es.VpcEndpointServiceName(),
	})
	awscdk.NewCfnOutput(stack, jsii.String("LoadBalancerDnsName"), &awscdk.CfnOutputProps{Value: nlb.LoadBalancerDnsName()})
}

// accessLogs turns on the ALB's access logs into bucket under alb/. CDK's LogAccessLogs
// needs the region at synth time; this works in any region: log delivery's service principal
// (regions from August 2022 on) and, in older regions, the regional ELB account from a
// mapping, both limited to this account's prefix. Anything not over TLS is refused.
func accessLogs(scope constructs.Construct, alb elb.ApplicationLoadBalancer, bucket awss3.Bucket) {
	stack := awscdk.Stack_Of(scope)
	const prefix = "alb"
	accounts := map[string]*map[string]interface{}{}
	var inRegion []awscdk.ICfnConditionExpression
	for _, r := range *regioninfo.RegionInfo_Regions() {
		if a := r.Elbv2Account(); a != nil && *r.Partition() == "aws" {
			accounts[*r.Name()] = &map[string]interface{}{"account": *a}
			inRegion = append(inRegion, awscdk.Fn_ConditionEquals(awscdk.Aws_REGION(), *r.Name()))
		}
	}
	awscdk.NewCfnMapping(stack, jsii.String("ElbAccounts"), &awscdk.CfnMappingProps{Mapping: &accounts})
	var ors []awscdk.ICfnConditionExpression
	for len(inRegion) > 0 { // Fn::Or takes 2 to 10 conditions
		n := min(len(inRegion), 10)
		chunk := inRegion[:n]
		if n == 1 {
			chunk = append(chunk, chunk[0])
		}
		ors = append(ors, awscdk.Fn_ConditionOr(chunk...))
		inRegion = inRegion[n:]
	}
	if len(ors) == 1 {
		ors = append(ors, ors[0])
	}
	legacy := awscdk.NewCfnCondition(stack, jsii.String("ElbAccountRegion"), &awscdk.CfnConditionProps{
		Expression: awscdk.Fn_ConditionOr(ors...),
	})
	objects := awscdk.Fn_Join(jsii.String(""), &[]*string{bucket.BucketArn(), jsii.String("/" + prefix + "/AWSLogs/"), awscdk.Aws_ACCOUNT_ID(), jsii.String("/*")})
	policy := awss3.NewCfnBucketPolicy(scope, jsii.String("AccessLogsPolicy"), &awss3.CfnBucketPolicyProps{
		Bucket: bucket.BucketName(),
		PolicyDocument: map[string]interface{}{
			"Version": "2012-10-17",
			"Statement": []interface{}{
				denyInsecureTransport(bucket),
				map[string]interface{}{
					"Sid": "LogDelivery", "Effect": "Allow",
					"Principal": map[string]interface{}{"Service": "logdelivery.elasticloadbalancing.amazonaws.com"},
					"Action":    "s3:PutObject", "Resource": objects,
				},
				awscdk.Fn_ConditionIf(legacy.LogicalId(), map[string]interface{}{
					"Sid": "LogDeliveryElbAccount", "Effect": "Allow",
					"Principal": map[string]interface{}{"AWS": awscdk.Fn_Join(jsii.String(""), &[]*string{
						jsii.String("arn:"), awscdk.Aws_PARTITION(), jsii.String(":iam::"),
						awscdk.Fn_FindInMap(jsii.String("ElbAccounts"), awscdk.Aws_REGION(), jsii.String("account"), nil),
						jsii.String(":root"),
					})},
					"Action": "s3:PutObject", "Resource": objects,
				}, awscdk.Aws_NO_VALUE()),
			},
		},
	})
	// ELB checks that it may write when logging is turned on: the policy must come first.
	alb.Node().AddDependency(policy)
	alb.SetAttribute(jsii.String("access_logs.s3.enabled"), jsii.String("true"))
	alb.SetAttribute(jsii.String("access_logs.s3.bucket"), bucket.BucketName())
	alb.SetAttribute(jsii.String("access_logs.s3.prefix"), jsii.String(prefix))
}

// nlbAccessLogs turns on the NLB's access logs (written for TLS listeners) into bucket under
// nlb/, delivered by CloudWatch Logs' delivery service for this account only.
func nlbAccessLogs(scope constructs.Construct, nlb elb.NetworkLoadBalancer, bucket awss3.Bucket) {
	const prefix = "nlb"
	account := map[string]interface{}{"aws:SourceAccount": awscdk.Aws_ACCOUNT_ID()}
	policy := awss3.NewCfnBucketPolicy(scope, jsii.String("AccessLogsPolicy"), &awss3.CfnBucketPolicyProps{
		Bucket: bucket.BucketName(),
		PolicyDocument: map[string]interface{}{
			"Version": "2012-10-17",
			"Statement": []interface{}{
				denyInsecureTransport(bucket),
				map[string]interface{}{
					"Sid": "LogDelivery", "Effect": "Allow",
					"Principal": map[string]interface{}{"Service": "delivery.logs.amazonaws.com"},
					"Action":    "s3:PutObject",
					"Resource":  awscdk.Fn_Join(jsii.String(""), &[]*string{bucket.BucketArn(), jsii.String("/" + prefix + "/AWSLogs/"), awscdk.Aws_ACCOUNT_ID(), jsii.String("/*")}),
					"Condition": map[string]interface{}{"StringEquals": map[string]interface{}{
						"s3:x-amz-acl": "bucket-owner-full-control", "aws:SourceAccount": awscdk.Aws_ACCOUNT_ID(),
					}},
				},
				map[string]interface{}{
					"Sid": "LogDeliveryAclCheck", "Effect": "Allow",
					"Principal": map[string]interface{}{"Service": "delivery.logs.amazonaws.com"},
					"Action":    "s3:GetBucketAcl", "Resource": bucket.BucketArn(),
					"Condition": map[string]interface{}{"StringEquals": account},
				},
			},
		},
	})
	awscdk.NewCfnOutput(awscdk.Stack_Of(scope), jsii.String("AccessLogsBucket"), &awscdk.CfnOutputProps{Value: bucket.BucketName()})
	nlb.Node().AddDependency(policy)
	nlb.SetAttribute(jsii.String("access_logs.s3.enabled"), jsii.String("true"))
	nlb.SetAttribute(jsii.String("access_logs.s3.bucket"), bucket.BucketName())
	nlb.SetAttribute(jsii.String("access_logs.s3.prefix"), jsii.String(prefix))
}

// denyInsecureTransport refuses every request to bucket that is not over TLS.
func denyInsecureTransport(bucket awss3.Bucket) map[string]interface{} {
	return map[string]interface{}{
		"Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": map[string]interface{}{"AWS": "*"},
		"Action": "s3:*", "Resource": []interface{}{bucket.BucketArn(), awscdk.Fn_Join(jsii.String(""), &[]*string{bucket.BucketArn(), jsii.String("/*")})},
		"Condition": map[string]interface{}{"Bool": map[string]interface{}{"aws:SecureTransport": "false"}},
	}
}
