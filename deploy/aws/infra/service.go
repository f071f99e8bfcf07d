package infra

import (
	"fmt"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapplicationautoscaling"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsecs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// Coffer's COFFER_SHUTDOWN_TIMEOUT default: after the drain, how long in-flight requests get.
const shutdownTimeout = 10 * time.Second

// TLS files the private variant's tcp mode expects in the image (Coffer terminates TLS).
const (
	tlsCertPath = "/etc/coffer/tls/tls.crt"
	tlsKeyPath  = "/etc/coffer/tls/tls.key"
)

// service is the Fargate service and its two roles.
type service struct {
	cluster       awsecs.Cluster
	svc           awsecs.FargateService
	taskDef       awsecs.FargateTaskDefinition
	container     awsecs.ContainerDefinition
	execRole      awsiam.Role
	taskRole      awsiam.Role
	logs          awslogs.LogGroup
	scaling       awsecs.ScalableTaskCount
	containerPort float64
}

func newService(scope constructs.Construct, opts Options, p *params, n *network, sgs *securityGroups, d *dataTier) *service {
	stack := awscdk.Stack_Of(scope)
	s := &service{containerPort: AppPort}
	s.logs = awslogs.NewLogGroup(scope, jsii.String("Logs"), &awslogs.LogGroupProps{
		Retention:     retention(opts.LogRetentionDays),
		RemovalPolicy: awscdk.RemovalPolicy_RETAIN,
	})
	ecsTasks := awsiam.NewServicePrincipal(jsii.String("ecs-tasks.amazonaws.com"), nil)
	// The execution role starts the task: it pulls the image, writes the logs and reads the
	// root credentials into the task's environment. It is the only principal that may read them.
	s.execRole = awsiam.NewRole(scope, jsii.String("ExecutionRole"), &awsiam.RoleProps{
		AssumedBy:   ecsTasks,
		Description: jsii.String("Coffer task execution: image pull, logs, root credentials"),
	})
	var paramARNs []*string
	for _, sec := range p.ssm {
		paramARNs = append(paramARNs, ssmParameterARN(sec.param.ValueAsString()))
	}
	s.execRole.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:       jsii.String("RootCredentials"),
		Actions:   jsii.Strings("ssm:GetParameters"),
		Resources: &paramARNs,
	}))
	s.execRole.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:       jsii.String("RedisUrl"),
		Actions:   jsii.Strings("secretsmanager:GetSecretValue"),
		Resources: &[]*string{d.redisURL.Ref()},
	}))
	s.execRole.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:       jsii.String("EcrAuth"),
		Actions:   jsii.Strings("ecr:GetAuthorizationToken"),
		Resources: jsii.Strings("*"), // the action has no resource
	}))
	s.execRole.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:       jsii.String("EcrPull"),
		Actions:   jsii.Strings("ecr:BatchCheckLayerAvailability", "ecr:GetDownloadUrlForLayer", "ecr:BatchGetImage"),
		Resources: &[]*string{awscdk.Fn_Sub(jsii.String("arn:${AWS::Partition}:ecr:${AWS::Region}:${AWS::AccountId}:repository/*"), nil)},
	}))
	// The task role is what Coffer itself may call. Every credential is injected through the
	// task's secrets, so the only AWS call Coffer makes is kms:Decrypt of a KMS-wrapped root
	// key at start, and only when RootKeyKmsKeyArn is set.
	s.taskRole = awsiam.NewRole(scope, jsii.String("TaskRole"), &awsiam.RoleProps{
		AssumedBy:   ecsTasks,
		Description: jsii.String("Coffer task: kms:Decrypt of the wrapped root key, if any; nothing else"),
	})
	rootKey := awsiam.NewPolicy(scope, jsii.String("TaskRootKeyPolicy"), &awsiam.PolicyProps{
		Roles: &[]awsiam.IRole{s.taskRole},
		Statements: &[]awsiam.PolicyStatement{awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:       jsii.String("UnwrapRootKey"),
			Actions:   jsii.Strings("kms:Decrypt"),
			Resources: &[]*string{p.rootKeyKMS},
			// coffer keys generate --kms-key-id wraps the root key with this context.
			Conditions: &map[string]interface{}{
				"StringEquals": map[string]string{"kms:EncryptionContext:coffer": "root-key"},
			},
		})},
	})
	rootKey.Node().DefaultChild().(awsiam.CfnPolicy).CfnOptions().SetCondition(p.rootKeyWrapped)
	s.taskDef = awsecs.NewFargateTaskDefinition(scope, jsii.String("Task"), &awsecs.FargateTaskDefinitionProps{
		Cpu:            jsii.Number(float64(opts.TaskCPU)),
		MemoryLimitMiB: jsii.Number(float64(opts.TaskMemoryMiB)),
		ExecutionRole:  s.execRole,
		TaskRole:       s.taskRole,
		RuntimePlatform: &awsecs.RuntimePlatform{
			CpuArchitecture:       awsecs.CpuArchitecture_X86_64(),
			OperatingSystemFamily: awsecs.OperatingSystemFamily_LINUX(),
		},
	})
	env := map[string]*string{
		"COFFER_LISTEN":              jsii.String(fmt.Sprintf("0.0.0.0:%d", AppPort)),
		"COFFER_LOG_FORMAT":          jsii.String("json"),
		"COFFER_SHUTDOWN_DRAIN":      jsii.String(opts.Drain.String()),
		"COFFER_SITE_URL":            p.siteURL,
		"COFFER_ROOT_KEY_KMS_KEY_ID": p.rootKeyKMS, // empty: a plain root key
		"COFFER_SMTP_HOST":           awscdk.Fn_Sub(jsii.String("email-smtp.${AWS::Region}.${AWS::URLSuffix}"), nil),
		"COFFER_SMTP_PORT":           jsii.String("587"),
		"COFFER_SMTP_FROM":           awscdk.Fn_Join(jsii.String(""), jsii.Strings("coffer@", *p.emailDomain)),
	}
	if opts.Variant == Public {
		env["COFFER_TRUSTED_PROXIES"] = jsii.String(opts.VPCCIDR) // the ALB's addresses
	} else if opts.NLBMode == NLBTCP {
		// Every connection starts with a PROXY header (the NLB's health checks send LOCAL
		// ones), believed only from the VPC: the NLB's addresses.
		env["COFFER_PROXY_PROTOCOL"] = jsii.String("on")
		env["COFFER_TRUSTED_PROXIES"] = jsii.String(opts.VPCCIDR)
		env["COFFER_TLS_CERT_FILE"] = jsii.String(tlsCertPath)
		env["COFFER_TLS_KEY_FILE"] = jsii.String(tlsKeyPath)
	}
	stop := opts.Drain + shutdownTimeout + 5*time.Second
	if stop > 120*time.Second {
		stop = 120 * time.Second // Fargate's most
	}
	s.container = s.taskDef.AddContainer(jsii.String("coffer"), &awsecs.ContainerDefinitionOptions{
		Image:                  awsecs.ContainerImage_FromRegistry(p.image, nil),
		Essential:              jsii.Bool(true),
		MemoryLimitMiB:         jsii.Number(float64(opts.TaskMemoryMiB)), // a hard limit
		ReadonlyRootFilesystem: jsii.Bool(true),
		User:                   jsii.String("65532:65532"),
		PortMappings:           &[]*awsecs.PortMapping{{ContainerPort: jsii.Number(AppPort), Protocol: awsecs.Protocol_TCP}},
		Environment:            &env,
		StopTimeout:            awscdk.Duration_Seconds(jsii.Number(stop.Seconds())),
		Logging: awsecs.LogDriver_AwsLogs(&awsecs.AwsLogDriverProps{
			LogGroup: s.logs, StreamPrefix: jsii.String("coffer"),
		}),
	})
	// The root credentials: written as raw task secrets so that CDK grants nothing more than
	// the ssm:GetParameters statement above.
	secrets := []map[string]interface{}{}
	for i, sec := range p.ssm {
		secrets = append(secrets, map[string]interface{}{"Name": sec.env, "ValueFrom": paramARNs[i]})
	}
	secrets = append(secrets, map[string]interface{}{"Name": "COFFER_REDIS_URL", "ValueFrom": d.redisURL.Ref()})
	s.taskDef.Node().DefaultChild().(awsecs.CfnTaskDefinition).AddPropertyOverride(jsii.String("ContainerDefinitions.0.Secrets"), secrets)

	s.cluster = awsecs.NewCluster(scope, jsii.String("Cluster"), &awsecs.ClusterProps{
		Vpc: n.vpc, ContainerInsightsV2: awsecs.ContainerInsights_ENABLED,
	})
	s.svc = awsecs.NewFargateService(scope, jsii.String("Service"), &awsecs.FargateServiceProps{
		Cluster:                     s.cluster,
		TaskDefinition:              s.taskDef,
		DesiredCount:                p.taskCount(),
		AssignPublicIp:              jsii.Bool(false),
		SecurityGroups:              &[]awsec2.ISecurityGroup{sgs.ecs},
		VpcSubnets:                  n.subnets(subnetApp),
		CircuitBreaker:              &awsecs.DeploymentCircuitBreaker{Enable: jsii.Bool(true), Rollback: jsii.Bool(true)},
		MinHealthyPercent:           jsii.Number(100),
		MaxHealthyPercent:           jsii.Number(200),
		HealthCheckGracePeriod:      awscdk.Duration_Seconds(jsii.Number(60)),
		AvailabilityZoneRebalancing: awsecs.AvailabilityZoneRebalancing_ENABLED,
		PropagateTags:               awsecs.PropagatedTagSource_SERVICE,
		EnableECSManagedTags:        jsii.Bool(true),
	})
	s.scaling = s.svc.AutoScaleTaskCount(&awsapplicationautoscaling.EnableScalingProps{
		MinCapacity: p.taskCount(),
		MaxCapacity: p.maxTasks,
	})
	s.scaling.ScaleOnCpuUtilization(jsii.String("Cpu"), &awsecs.CpuUtilizationScalingProps{
		TargetUtilizationPercent: jsii.Number(60),
	})
	awscdk.NewCfnOutput(stack, jsii.String("ClusterName"), &awscdk.CfnOutputProps{Value: s.cluster.ClusterName()})
	awscdk.NewCfnOutput(stack, jsii.String("ServiceName"), &awscdk.CfnOutputProps{Value: s.svc.ServiceName()})
	awscdk.NewCfnOutput(stack, jsii.String("LogGroup"), &awscdk.CfnOutputProps{Value: s.logs.LogGroupName()})
	return s
}

// ssmParameterARN is the ARN of a parameter given by its full path name (/a/b).
func ssmParameterARN(name *string) *string {
	return awscdk.Fn_Join(jsii.String(""), &[]*string{
		jsii.String("arn:"), awscdk.Aws_PARTITION(), jsii.String(":ssm:"), awscdk.Aws_REGION(),
		jsii.String(":"), awscdk.Aws_ACCOUNT_ID(), jsii.String(":parameter"), name,
	})
}
