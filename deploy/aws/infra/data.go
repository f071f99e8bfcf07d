package infra

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awselasticache"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsrds"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssecretsmanager"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// PostgresVersion is the RDS engine version the reference deployment runs.
const PostgresVersion = "17.6"

// dataTier is PostgreSQL (primary Multi-AZ + a read replica) and Redis (primary + replica).
// Both live in the data subnets, which have no route out of the VPC.
type dataTier struct {
	primary, replica awsrds.CfnDBInstance
	redis            awselasticache.CfnReplicationGroup
	// redisURL is a Secrets Manager secret holding rediss://:TOKEN@HOST:PORT, written by
	// CloudFormation once the replication group exists; only the execution role reads it.
	redisURL awssecretsmanager.CfnSecret
}

func newDataTier(scope constructs.Construct, opts Options, n *network, sgs *securityGroups) *dataTier {
	d := &dataTier{}
	data := n.vpc.SelectSubnets(n.subnets(subnetData))
	all := data.SubnetIds
	// With three AZs the primary (and its Multi-AZ standby) may use only the first two, so
	// the replica, pinned to the third, never shares an AZ with either.
	primarySubnets := all
	replicaAZ := n.azs[len(n.azs)-1]
	if opts.AZs == 3 {
		primarySubnets = &[]*string{(*all)[0], (*all)[1]}
	}
	primaryGroup := awsrds.NewCfnDBSubnetGroup(scope, jsii.String("DatabaseSubnets"), &awsrds.CfnDBSubnetGroupProps{
		DbSubnetGroupDescription: jsii.String("Coffer PostgreSQL primary and standby"),
		SubnetIds:                primarySubnets,
	})
	replicaGroup := awsrds.NewCfnDBSubnetGroup(scope, jsii.String("DatabaseReplicaSubnets"), &awsrds.CfnDBSubnetGroupProps{
		DbSubnetGroupDescription: jsii.String("Coffer PostgreSQL read replica"),
		SubnetIds:                all,
	})
	params := awsrds.NewCfnDBParameterGroup(scope, jsii.String("DatabaseParameters"), &awsrds.CfnDBParameterGroupProps{
		Description: jsii.String("Coffer PostgreSQL: TLS required"),
		Family:      jsii.String("postgres17"),
		Parameters:  &map[string]interface{}{"rds.force_ssl": "1"},
	})
	sg := &[]*string{sgs.rds.SecurityGroupId()}
	// Enhanced monitoring: OS metrics every minute, published by RDS through this role.
	monitoring := awsiam.NewRole(scope, jsii.String("DatabaseMonitoringRole"), &awsiam.RoleProps{
		AssumedBy: awsiam.NewServicePrincipal(jsii.String("monitoring.rds.amazonaws.com"), nil),
		ManagedPolicies: &[]awsiam.IManagedPolicy{
			awsiam.ManagedPolicy_FromAwsManagedPolicyName(jsii.String("service-role/AmazonRDSEnhancedMonitoringRole")),
		},
	})
	d.primary = awsrds.NewCfnDBInstance(scope, jsii.String("Database"), &awsrds.CfnDBInstanceProps{
		Engine:                             jsii.String("postgres"),
		EngineVersion:                      jsii.String(PostgresVersion),
		DbInstanceClass:                    jsii.String(opts.DBInstanceClass),
		DbName:                             jsii.String("coffer"),
		AllocatedStorage:                   jsii.String("100"),
		MaxAllocatedStorage:                jsii.Number(1000),
		StorageType:                        jsii.String("gp3"),
		StorageEncrypted:                   jsii.Bool(true),
		MultiAz:                            jsii.Bool(true),
		MasterUsername:                     jsii.String("coffer_admin"),
		ManageMasterUserPassword:           jsii.Bool(true),
		BackupRetentionPeriod:              jsii.Number(14),
		PreferredBackupWindow:              jsii.String("02:00-03:00"),
		PreferredMaintenanceWindow:         jsii.String("sun:04:00-sun:05:00"),
		DeletionProtection:                 jsii.Bool(true),
		EnableIamDatabaseAuthentication:    jsii.Bool(true),
		EnablePerformanceInsights:          jsii.Bool(true),
		PerformanceInsightsRetentionPeriod: jsii.Number(7),
		MonitoringInterval:                 jsii.Number(60),
		MonitoringRoleArn:                  monitoring.RoleArn(),
		EnableCloudwatchLogsExports:        jsii.Strings("postgresql", "upgrade"),
		DbSubnetGroupName:                  primaryGroup.Ref(),
		DbParameterGroupName:               params.Ref(),
		VpcSecurityGroups:                  sg,
		PubliclyAccessible:                 jsii.Bool(false),
		CopyTagsToSnapshot:                 jsii.Bool(true),
		AutoMinorVersionUpgrade:            jsii.Bool(true),
		CaCertificateIdentifier:            jsii.String("rds-ca-rsa2048-g1"),
	})
	d.primary.ApplyRemovalPolicy(awscdk.RemovalPolicy_SNAPSHOT, nil)
	d.replica = awsrds.NewCfnDBInstance(scope, jsii.String("DatabaseReplica"), &awsrds.CfnDBInstanceProps{
		SourceDbInstanceIdentifier:         d.primary.Ref(),
		DbInstanceClass:                    jsii.String(opts.DBInstanceClass),
		AvailabilityZone:                   replicaAZ,
		DbSubnetGroupName:                  replicaGroup.Ref(),
		DbParameterGroupName:               params.Ref(),
		MultiAz:                            jsii.Bool(false),
		DeletionProtection:                 jsii.Bool(true),
		EnableIamDatabaseAuthentication:    jsii.Bool(true),
		EnablePerformanceInsights:          jsii.Bool(true),
		PerformanceInsightsRetentionPeriod: jsii.Number(7),
		MonitoringInterval:                 jsii.Number(60),
		MonitoringRoleArn:                  monitoring.RoleArn(),
		EnableCloudwatchLogsExports:        jsii.Strings("postgresql", "upgrade"),
		VpcSecurityGroups:                  sg,
		PubliclyAccessible:                 jsii.Bool(false),
		AutoMinorVersionUpgrade:            jsii.Bool(true),
		CaCertificateIdentifier:            jsii.String("rds-ca-rsa2048-g1"),
	})
	d.replica.ApplyRemovalPolicy(awscdk.RemovalPolicy_DESTROY, nil) // a replica is rebuilt from the primary

	token := awssecretsmanager.NewSecret(scope, jsii.String("RedisAuthToken"), &awssecretsmanager.SecretProps{
		Description: jsii.String("Coffer Redis AUTH token"),
		GenerateSecretString: &awssecretsmanager.SecretStringGenerator{
			PasswordLength: jsii.Number(64), ExcludePunctuation: jsii.Bool(true),
		},
	})
	cacheSubnets := awselasticache.NewCfnSubnetGroup(scope, jsii.String("RedisSubnets"), &awselasticache.CfnSubnetGroupProps{
		Description: jsii.String("Coffer Redis"),
		SubnetIds:   all,
	})
	d.redis = awselasticache.NewCfnReplicationGroup(scope, jsii.String("Redis"), &awselasticache.CfnReplicationGroupProps{
		ReplicationGroupDescription: jsii.String("Coffer cache: primary and replica in two AZs"),
		Engine:                      jsii.String("redis"),
		EngineVersion:               jsii.String("7.1"),
		CacheNodeType:               jsii.String(opts.CacheNodeType),
		NumCacheClusters:            jsii.Number(2),
		PreferredCacheClusterAZs:    &[]*string{n.azs[0], n.azs[1]},
		AutomaticFailoverEnabled:    jsii.Bool(true),
		MultiAzEnabled:              jsii.Bool(true),
		TransitEncryptionEnabled:    jsii.Bool(true),
		TransitEncryptionMode:       jsii.String("required"),
		AtRestEncryptionEnabled:     jsii.Bool(true),
		AuthToken:                   token.SecretValue().UnsafeUnwrap(),
		Port:                        jsii.Number(6379),
		CacheSubnetGroupName:        cacheSubnets.Ref(),
		SecurityGroupIds:            &[]*string{sgs.redis.SecurityGroupId()},
		SnapshotRetentionLimit:      jsii.Number(7),
		AutoMinorVersionUpgrade:     jsii.Bool(true),
	})
	d.redisURL = awssecretsmanager.NewCfnSecret(scope, jsii.String("RedisUrl"), &awssecretsmanager.CfnSecretProps{
		Description: jsii.String("Coffer COFFER_REDIS_URL: rediss:// with the AUTH token"),
		SecretString: awscdk.Fn_Join(jsii.String(""), &[]*string{
			jsii.String("rediss://:"), token.SecretValue().UnsafeUnwrap(), jsii.String("@"),
			d.redis.AttrPrimaryEndPointAddress(), jsii.String(":"), d.redis.AttrPrimaryEndPointPort(),
		}),
	})
	return d
}
