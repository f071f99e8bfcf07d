package infra

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsses"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// newEmail verifies the e-mail domain in SES with Easy DKIM; the three CNAME records to add
// to the domain's DNS are outputs.
func newEmail(scope constructs.Construct, p *params) {
	stack := awscdk.Stack_Of(scope)
	id := awsses.NewEmailIdentity(scope, jsii.String("EmailDomain"), &awsses.EmailIdentityProps{
		Identity: awsses.Identity_Domain(p.emailDomain),
	})
	for i, rec := range []struct{ name, value *string }{
		{id.DkimDnsTokenName1(), id.DkimDnsTokenValue1()},
		{id.DkimDnsTokenName2(), id.DkimDnsTokenValue2()},
		{id.DkimDnsTokenName3(), id.DkimDnsTokenValue3()},
	} {
		awscdk.NewCfnOutput(stack, jsii.String(fmt.Sprintf("DkimRecord%d", i+1)), &awscdk.CfnOutputProps{
			Description: jsii.String("DNS CNAME record (name value) that verifies the SES domain"),
			Value:       awscdk.Fn_Join(jsii.String(" CNAME "), &[]*string{rec.name, rec.value}),
		})
	}
}

// newBastion is one small instance in an app subnet with no inbound rule at all: operators
// reach it only through SSM Session Manager (port forwarding to the database).
func newBastion(scope constructs.Construct, n *network, sgs *securityGroups) {
	b := awsec2.NewBastionHostLinux(scope, jsii.String("Bastion"), &awsec2.BastionHostLinuxProps{
		Vpc:             n.vpc,
		SubnetSelection: n.subnets(subnetApp),
		SecurityGroup:   sgs.bastion,
		InstanceType:    awsec2.NewInstanceType(jsii.String("t4g.nano")),
		MachineImage: awsec2.MachineImage_LatestAmazonLinux2023(&awsec2.AmazonLinux2023ImageSsmParameterProps{
			CpuType: awsec2.AmazonLinuxCpuType_ARM_64,
		}),
		BlockDevices: &[]*awsec2.BlockDevice{{
			DeviceName: jsii.String("/dev/xvda"),
			Volume: awsec2.BlockDeviceVolume_Ebs(jsii.Number(8), &awsec2.EbsDeviceOptions{
				Encrypted: jsii.Bool(true), VolumeType: awsec2.EbsDeviceVolumeType_GP3,
			}),
		}},
	})
	// IMDSv2 only. BastionHostLinux's RequireImdsv2 would add, at synth time, a launch template
	// with a fixed name that clashes between two deployments in one region: this one is
	// named by CloudFormation.
	lt := awsec2.NewCfnLaunchTemplate(scope, jsii.String("BastionLaunchTemplate"), &awsec2.CfnLaunchTemplateProps{
		LaunchTemplateData: &awsec2.CfnLaunchTemplate_LaunchTemplateDataProperty{
			MetadataOptions: &awsec2.CfnLaunchTemplate_MetadataOptionsProperty{
				HttpTokens: jsii.String("required"), HttpPutResponseHopLimit: jsii.Number(1),
			},
			Monitoring: &awsec2.CfnLaunchTemplate_MonitoringProperty{Enabled: jsii.Bool(true)},
		},
	})
	inst := b.Instance().Node().DefaultChild().(awsec2.CfnInstance)
	inst.AddPropertyOverride(jsii.String("LaunchTemplate"), map[string]interface{}{
		"LaunchTemplateId": lt.Ref(), "Version": lt.AttrLatestVersionNumber(),
	})
	inst.AddPropertyOverride(jsii.String("Monitoring"), true)
	// An explicit network interface that says "no public IP", instead of SubnetId and
	// SecurityGroupIds at the top level (which leave it to the subnet's setting).
	subnet := n.vpc.SelectSubnets(n.subnets(subnetApp)).SubnetIds
	inst.AddPropertyDeletionOverride(jsii.String("SubnetId"))
	inst.AddPropertyDeletionOverride(jsii.String("SecurityGroupIds"))
	inst.AddPropertyOverride(jsii.String("NetworkInterfaces"), []map[string]interface{}{{
		"DeviceIndex": "0", "AssociatePublicIpAddress": false, "DeleteOnTermination": true,
		"SubnetId": (*subnet)[0], "GroupSet": []*string{sgs.bastion.SecurityGroupId()},
	}})
	// Session Manager's actions by name rather than CDK's ssmmessages:* and ec2messages:*.
	pol := b.Role().Node().FindChild(jsii.String("DefaultPolicy")).Node().DefaultChild().(awsiam.CfnPolicy)
	pol.AddPropertyOverride(jsii.String("PolicyDocument.Statement.0.Action"), ssmSessionActions)
}

// ssmSessionActions are what the SSM agent needs for Session Manager.
var ssmSessionActions = []string{
	"ec2messages:AcknowledgeMessage", "ec2messages:DeleteMessage", "ec2messages:FailMessage",
	"ec2messages:GetEndpoint", "ec2messages:GetMessages", "ec2messages:SendReply",
	"ssm:UpdateInstanceInformation",
	"ssmmessages:CreateControlChannel", "ssmmessages:CreateDataChannel",
	"ssmmessages:OpenControlChannel", "ssmmessages:OpenDataChannel",
}

// outputs are the data tier's endpoints the operator needs to write the SSM parameters.
func (d *dataTier) outputs(scope constructs.Construct) {
	stack := awscdk.Stack_Of(scope)
	for _, o := range []struct {
		id, desc string
		v        *string
	}{
		{"DatabaseEndpoint", "PostgreSQL primary (host of COFFER_DATABASE_URL)", d.primary.AttrEndpointAddress()},
		{"DatabaseReplicaEndpoint", "PostgreSQL read replica (host of COFFER_DATABASE_READ_REPLICAS)", d.replica.AttrEndpointAddress()},
		{"DatabaseMasterSecretArn", "Secrets Manager secret of the RDS master user (managed by RDS)", d.primary.AttrMasterUserSecretSecretArn()},
		{"RedisEndpoint", "Redis primary endpoint", d.redis.AttrPrimaryEndPointAddress()},
	} {
		awscdk.NewCfnOutput(stack, jsii.String(o.id), &awscdk.CfnOutputProps{Description: jsii.String(o.desc), Value: o.v})
	}
}
