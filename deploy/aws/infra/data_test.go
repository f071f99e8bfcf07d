package infra_test

import (
	"slices"
	"sort"
	"testing"
)

// subnetAZs returns the AZ indexes of the subnets listed in v, sorted.
func (t *tpl) subnetAZs(v any) []int {
	var out []int
	for _, s := range list(v) {
		out = append(out, azIndex(t.Resources[ref(s)].Properties["AvailabilityZone"]))
	}
	sort.Ints(out)
	return out
}

func TestDatabase(t *testing.T) {
	eachCase(t, func(t *testing.T, c tcase, tp *tpl) {
		var primaryID, replicaID string
		for _, id := range tp.ofType("AWS::RDS::DBInstance") {
			if _, ok := tp.Resources[id].Properties["SourceDBInstanceIdentifier"]; ok {
				replicaID = id
			} else {
				primaryID = id
			}
		}
		if n := len(tp.ofType("AWS::RDS::DBInstance")); n != 2 || primaryID == "" || replicaID == "" {
			t.Fatalf("%d DB instances, primary %q replica %q", n, primaryID, replicaID)
		}
		primary, replica := tp.Resources[primaryID], tp.Resources[replicaID]
		p := primary.Properties
		for k, want := range map[string]any{
			"Engine": "postgres", "MultiAZ": true, "StorageEncrypted": true, "ManageMasterUserPassword": true,
			"DeletionProtection": true, "EnableIAMDatabaseAuthentication": true, "EnablePerformanceInsights": true,
			"PubliclyAccessible": false, "BackupRetentionPeriod": 14.0,
		} {
			if p[k] != want {
				t.Errorf("primary %s = %v, want %v", k, p[k], want)
			}
		}
		if _, ok := p["MasterUserPassword"]; ok {
			t.Error("primary has a MasterUserPassword in the template")
		}
		if primary.DeletionPolicy != "Snapshot" {
			t.Errorf("primary DeletionPolicy %q, want Snapshot", primary.DeletionPolicy)
		}
		r := replica.Properties
		if ref(r["SourceDBInstanceIdentifier"]) != primaryID {
			t.Errorf("replica of %s", js(r["SourceDBInstanceIdentifier"]))
		}
		for k, want := range map[string]any{
			"DeletionProtection": true, "EnableIAMDatabaseAuthentication": true, "EnablePerformanceInsights": true,
			"PubliclyAccessible": false, "MultiAZ": false,
		} {
			if r[k] != want {
				t.Errorf("replica %s = %v, want %v", k, r[k], want)
			}
		}
		// A replica inherits the primary's encryption; it must not override it.
		if _, ok := r["StorageEncrypted"]; ok {
			t.Errorf("replica sets StorageEncrypted %v", r["StorageEncrypted"])
		}
		for _, inst := range []map[string]any{p, r} {
			if sgs := list(inst["VPCSecurityGroups"]); len(sgs) != 1 || sgName(ref(sgs[0])) != "rds" {
				t.Errorf("DB security groups %s", js(sgs))
			}
		}
		// The replica is pinned to the last AZ; with 3 AZs the primary and its standby may
		// only use the other two.
		replicaAZ := azIndex(r["AvailabilityZone"])
		if replicaAZ != c.opts.AZs-1 {
			t.Errorf("replica AZ %s, want index %d", js(r["AvailabilityZone"]), c.opts.AZs-1)
		}
		primaryAZs := tp.subnetAZs(tp.Resources[ref(p["DBSubnetGroupName"])].Properties["SubnetIds"])
		if !slices.Equal(primaryAZs, []int{0, 1}) {
			t.Errorf("primary subnet group AZs %v, want [0 1]", primaryAZs)
		}
		if c.opts.AZs == 3 && slices.Contains(primaryAZs, replicaAZ) {
			t.Errorf("the primary may run in the replica's AZ %d", replicaAZ)
		}
		for _, gid := range []any{p["DBSubnetGroupName"], r["DBSubnetGroupName"]} {
			if g := tp.subnetGroups(tp.Resources[ref(gid)].Properties["SubnetIds"]); !slices.Equal(g, []string{"data"}) {
				t.Errorf("DB subnet group %s in %v, want data subnets only", ref(gid), g)
			}
		}
	})
}

func TestRedis(t *testing.T) {
	eachCase(t, func(t *testing.T, c tcase, tp *tpl) {
		_, rg := tp.one(t, "AWS::ElastiCache::ReplicationGroup", "CofferRedis")
		p := rg.Properties
		for k, want := range map[string]any{
			"Engine": "redis", "NumCacheClusters": 2.0, "AutomaticFailoverEnabled": true, "MultiAZEnabled": true,
			"TransitEncryptionEnabled": true, "TransitEncryptionMode": "required", "AtRestEncryptionEnabled": true,
			"Port": 6379.0,
		} {
			if p[k] != want {
				t.Errorf("redis %s = %v, want %v", k, p[k], want)
			}
		}
		token := mustID(t, tp, "AWS::SecretsManager::Secret", "CofferRedisAuthToken")
		if have := js(p["AuthToken"]); have != `{"Fn::Join":["",["{{resolve:secretsmanager:",{"Ref":"`+token+`"},":SecretString:::}}"]]}` {
			t.Errorf("AUTH token %s, want a Secrets Manager reference", have)
		}
		var azs []int
		for _, az := range list(p["PreferredCacheClusterAZs"]) {
			azs = append(azs, azIndex(az))
		}
		if !slices.Equal(azs, []int{0, 1}) {
			t.Errorf("cache cluster AZs %v, want [0 1]", azs)
		}
		if sgs := list(p["SecurityGroupIds"]); len(sgs) != 1 || sgName(ref(sgs[0])) != "redis" {
			t.Errorf("redis security groups %s", js(sgs))
		}
		sub := tp.Resources[ref(p["CacheSubnetGroupName"])].Properties["SubnetIds"]
		if g := tp.subnetGroups(sub); !slices.Equal(g, []string{"data"}) {
			t.Errorf("redis in subnet groups %v, want data only", g)
		}
	})
}
