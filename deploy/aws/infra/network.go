package infra

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// Subnet group names.
const (
	subnetPublic = "public" // load balancer (public variant) and NAT gateways
	subnetApp    = "app"    // tasks, internal NLB, bastion, interface endpoints
	subnetData   = "data"   // RDS and ElastiCache: no route out of the VPC at all
)

type network struct {
	vpc awsec2.Vpc
	azs []*string
}

// newNetwork builds the VPC over opts.AZs zones. The zones are the region's first N, chosen
// at deploy time (Fn::GetAZs), so one template serves every region.
func newNetwork(scope constructs.Construct, opts Options) *network {
	azs := make([]*string, opts.AZs)
	for i := range azs {
		azs[i] = awscdk.Fn_Select(jsii.Number(float64(i)), awscdk.Fn_GetAzs(jsii.String("")))
	}
	appType := awsec2.SubnetType_PRIVATE_WITH_EGRESS
	nat := opts.AZs
	if opts.SingleNAT {
		nat = 1
	}
	if opts.AirGapped {
		appType, nat = awsec2.SubnetType_PRIVATE_ISOLATED, 0
	}
	var subnets []*awsec2.SubnetConfiguration
	if opts.Variant == Public || !opts.AirGapped {
		subnets = append(subnets, &awsec2.SubnetConfiguration{Name: jsii.String(subnetPublic), SubnetType: awsec2.SubnetType_PUBLIC, CidrMask: jsii.Number(24), MapPublicIpOnLaunch: jsii.Bool(false)})
	}
	subnets = append(subnets,
		&awsec2.SubnetConfiguration{Name: jsii.String(subnetApp), SubnetType: appType, CidrMask: jsii.Number(20)},
		&awsec2.SubnetConfiguration{Name: jsii.String(subnetData), SubnetType: awsec2.SubnetType_PRIVATE_ISOLATED, CidrMask: jsii.Number(24)},
	)
	vpc := awsec2.NewVpc(scope, jsii.String("Vpc"), &awsec2.VpcProps{
		IpAddresses:                  awsec2.IpAddresses_Cidr(jsii.String(opts.VPCCIDR)),
		AvailabilityZones:            &azs,
		NatGateways:                  jsii.Number(float64(nat)),
		SubnetConfiguration:          &subnets,
		EnableDnsHostnames:           jsii.Bool(true),
		EnableDnsSupport:             jsii.Bool(true),
		RestrictDefaultSecurityGroup: jsii.Bool(false), // would need a Lambda asset; nothing uses the default SG
	})
	logs := awslogs.NewLogGroup(scope, jsii.String("FlowLogs"), &awslogs.LogGroupProps{
		Retention:     retention(opts.LogRetentionDays),
		RemovalPolicy: awscdk.RemovalPolicy_RETAIN,
	})
	vpc.AddFlowLog(jsii.String("FlowLog"), &awsec2.FlowLogOptions{
		Destination: awsec2.FlowLogDestination_ToCloudWatchLogs(logs, nil),
		TrafficType: awsec2.FlowLogTrafficType_ALL,
	})
	return &network{vpc: vpc, azs: azs}
}

func (n *network) subnets(group string) *awsec2.SubnetSelection {
	return &awsec2.SubnetSelection{SubnetGroupName: jsii.String(group)}
}

// addEndpoints adds, when air-gapped, the interface endpoints the tasks and the bastion need
// (behind their own security group) and the S3 gateway endpoint ECR's layers come from.
func (n *network) addEndpoints(scope constructs.Construct, opts Options, sgs *securityGroups) {
	if !opts.AirGapped {
		return
	}
	n.vpc.AddGatewayEndpoint(jsii.String("S3"), &awsec2.GatewayVpcEndpointOptions{
		Service: awsec2.GatewayVpcEndpointAwsService_S3(),
		Subnets: &[]*awsec2.SubnetSelection{n.subnets(subnetApp)},
	})
	for _, e := range []struct {
		id  string
		svc awsec2.InterfaceVpcEndpointAwsService
	}{
		{"EcrApi", awsec2.InterfaceVpcEndpointAwsService_ECR()},
		{"EcrDkr", awsec2.InterfaceVpcEndpointAwsService_ECR_DOCKER()},
		{"Logs", awsec2.InterfaceVpcEndpointAwsService_CLOUDWATCH_LOGS()},
		{"Ssm", awsec2.InterfaceVpcEndpointAwsService_SSM()},
		{"SsmMessages", awsec2.InterfaceVpcEndpointAwsService_SSM_MESSAGES()},
		{"Ec2Messages", awsec2.InterfaceVpcEndpointAwsService_EC2_MESSAGES()},
		{"SecretsManager", awsec2.InterfaceVpcEndpointAwsService_SECRETS_MANAGER()},
		{"Kms", awsec2.InterfaceVpcEndpointAwsService_KMS()},
		{"Sts", awsec2.InterfaceVpcEndpointAwsService_STS()},
		{"EmailSmtp", awsec2.InterfaceVpcEndpointAwsService_EMAIL_SMTP()},
	} {
		n.vpc.AddInterfaceEndpoint(jsii.String(e.id), &awsec2.InterfaceVpcEndpointOptions{
			Service:           e.svc,
			Subnets:           n.subnets(subnetApp),
			SecurityGroups:    &[]awsec2.ISecurityGroup{sgs.endpoints},
			PrivateDnsEnabled: jsii.Bool(true),
			Open:              jsii.Bool(false), // true would add 443 from the whole VPC CIDR
		})
	}
}

func retention(days int) awslogs.RetentionDays {
	for _, r := range []struct {
		d int
		r awslogs.RetentionDays
	}{
		{1, awslogs.RetentionDays_ONE_DAY}, {7, awslogs.RetentionDays_ONE_WEEK},
		{30, awslogs.RetentionDays_ONE_MONTH}, {90, awslogs.RetentionDays_THREE_MONTHS},
		{180, awslogs.RetentionDays_SIX_MONTHS}, {365, awslogs.RetentionDays_ONE_YEAR},
	} {
		if days <= r.d {
			return r.r
		}
	}
	return awslogs.RetentionDays_TWO_YEARS
}
