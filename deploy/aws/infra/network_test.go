package infra_test

import (
	"slices"
	"sort"
	"strings"
	"testing"
)

// TestNoBootstrap: plain CloudFormation that `aws cloudformation deploy` takes as it is.
func TestNoBootstrap(t *testing.T) {
	eachCase(t, func(t *testing.T, c tcase, tp *tpl) {
		if _, ok := tp.Parameters["BootstrapVersion"]; ok {
			t.Error("BootstrapVersion parameter")
		}
		if len(tp.Rules) > 0 {
			t.Errorf("rules %v (CDK's bootstrap check)", tp.Rules)
		}
		if ids := tp.ofType("AWS::CDK::Metadata"); len(ids) > 0 {
			t.Errorf("CDK metadata resources %v", ids)
		}
		for name := range tp.Parameters {
			if strings.Contains(name, "Asset") {
				t.Errorf("asset parameter %s", name)
			}
		}
		for _, id := range tp.ofType("AWS::Lambda::Function") {
			t.Errorf("Lambda function %s (custom resources need assets and bootstrap)", id)
		}
		raw := js(tp.raw)
		for _, s := range []string{"cdk-hnb659fds", "cdk-bootstrap", "AssetParameters"} {
			if strings.Contains(raw, s) {
				t.Errorf("template mentions %s", s)
			}
		}
		// CloudFormation takes 2 to 10 conditions in an Fn::Or (the ELB account regions).
		var ors func(v any)
		ors = func(v any) {
			switch v := v.(type) {
			case map[string]any:
				if l, ok := v["Fn::Or"].([]any); ok && (len(l) < 2 || len(l) > 10) {
					t.Errorf("Fn::Or with %d conditions", len(l))
				}
				for _, x := range v {
					ors(x)
				}
			case []any:
				for _, x := range v {
					ors(x)
				}
			}
		}
		ors(tp.raw)
		if _, ok := tp.Parameters["Image"]; !ok {
			t.Error("no Image parameter: the image must come from the operator, not an asset")
		}
	})
}

func TestNetwork(t *testing.T) {
	eachCase(t, func(t *testing.T, c tcase, tp *tpl) {
		groups := map[string][]int{}
		for _, id := range tp.ofType("AWS::EC2::Subnet") {
			p := tp.Resources[id].Properties
			g := tp.subnetGroup(id)
			groups[g] = append(groups[g], azIndex(p["AvailabilityZone"]))
			if p["MapPublicIpOnLaunch"] != false {
				t.Errorf("subnet %s maps public IPs on launch", id)
			}
		}
		azs := []int{0, 1, 2}[:c.opts.AZs]
		want := []string{"app", "data", "public"}
		if !c.public() && c.airGapped() {
			want = []string{"app", "data"}
		}
		var have []string
		for g, a := range groups {
			have = append(have, g)
			sort.Ints(a)
			if !slices.Equal(a, azs) {
				t.Errorf("%s subnets in AZs %v, want %v", g, a, azs)
			}
		}
		sort.Strings(have)
		if !slices.Equal(have, want) {
			t.Errorf("subnet groups %v, want %v", have, want)
		}
		// NAT: one per AZ, one, or none when air-gapped.
		nat := c.opts.AZs
		switch {
		case c.airGapped():
			nat = 0
		case c.opts.SingleNAT:
			nat = 1
		}
		if n := len(tp.ofType("AWS::EC2::NatGateway")); n != nat {
			t.Errorf("%d NAT gateways, want %d", n, nat)
		}
		if igw := len(tp.ofType("AWS::EC2::InternetGateway")); (igw == 1) != (c.public() || !c.airGapped()) {
			t.Errorf("%d internet gateways", igw)
		}
		// Routes out of the VPC: public subnets to the IGW, app subnets to a NAT (unless
		// air-gapped), data subnets never.
		byTable := map[string]string{}
		for _, id := range tp.ofType("AWS::EC2::SubnetRouteTableAssociation") {
			p := tp.Resources[id].Properties
			byTable[ref(p["RouteTableId"])] = tp.subnetGroup(ref(p["SubnetId"]))
		}
		routes := map[string]int{}
		for _, id := range tp.ofType("AWS::EC2::Route") {
			p := tp.Resources[id].Properties
			g := byTable[ref(p["RouteTableId"])]
			via := "igw"
			if _, ok := p["NatGatewayId"]; ok {
				via = "nat"
			}
			routes[g+" via "+via]++
			if p["DestinationCidrBlock"] != "0.0.0.0/0" {
				t.Errorf("route %s to %v", id, p["DestinationCidrBlock"])
			}
		}
		wantRoutes := map[string]int{}
		if c.public() || !c.airGapped() {
			wantRoutes["public via igw"] = c.opts.AZs
		}
		if !c.airGapped() {
			wantRoutes["app via nat"] = c.opts.AZs
		}
		if js(routes) != js(wantRoutes) {
			t.Errorf("default routes %v, want %v", routes, wantRoutes)
		}
		// Flow logs of all traffic into a log group that expires.
		_, fl := tp.one(t, "AWS::EC2::FlowLog", "CofferVpcFlowLog")
		if fl.Properties["TrafficType"] != "ALL" || fl.Properties["ResourceType"] != "VPC" {
			t.Errorf("flow log %v %v", fl.Properties["TrafficType"], fl.Properties["ResourceType"])
		}
		if lg := tp.Resources[ref(fl.Properties["LogGroupName"])]; lg.Properties["RetentionInDays"] != 365.0 {
			t.Errorf("flow log group retention %v", lg.Properties["RetentionInDays"])
		}
	})
}

func TestAirGappedEndpoints(t *testing.T) {
	eachCase(t, func(t *testing.T, c tcase, tp *tpl) {
		var iface, gateway []string
		for _, id := range tp.ofType("AWS::EC2::VPCEndpoint") {
			p := tp.Resources[id].Properties
			svc := js(p["ServiceName"])
			// "com.amazonaws.REGION.NAME" is built with Fn::Join: keep NAME.
			name := svc[strings.LastIndex(svc, `.`)+1:]
			name = strings.TrimRight(name, `"]}`)
			if p["VpcEndpointType"] == "Gateway" {
				gateway = append(gateway, name)
				continue
			}
			iface = append(iface, name)
			if p["PrivateDnsEnabled"] != true {
				t.Errorf("endpoint %s without private DNS", name)
			}
			if sgs := list(p["SecurityGroupIds"]); len(sgs) != 1 || sgName(ref(sgs[0])) != "endpoints" {
				t.Errorf("endpoint %s security groups %s", name, js(sgs))
			}
			if g := tp.subnetGroups(p["SubnetIds"]); !slices.Equal(g, []string{"app"}) {
				t.Errorf("endpoint %s in %v", name, g)
			}
		}
		sort.Strings(iface)
		var want, wantGW []string
		if c.airGapped() {
			want = []string{"api", "dkr", "ec2messages", "email-smtp", "kms", "logs", "secretsmanager", "ssm", "ssmmessages", "sts"}
			wantGW = []string{"s3"}
		}
		if !slices.Equal(iface, want) || !slices.Equal(gateway, wantGW) {
			t.Errorf("interface endpoints %q, gateway %q; want %q and %q", iface, gateway, want, wantGW)
		}
	})
}

func TestBastion(t *testing.T) {
	eachCase(t, func(t *testing.T, c tcase, tp *tpl) {
		instances := tp.ofType("AWS::EC2::Instance")
		if len(instances) != 1 {
			t.Fatalf("instances %v, want the bastion only", instances)
		}
		p := tp.Resources[instances[0]].Properties
		if _, ok := p["KeyName"]; ok {
			t.Error("bastion has an SSH key")
		}
		if _, ok := p["SubnetId"]; ok {
			t.Error("bastion placed with SubnetId: its network interface must say no public IP")
		}
		nics := list(p["NetworkInterfaces"])
		if len(nics) != 1 {
			t.Fatalf("bastion network interfaces %s", js(nics))
		}
		nic := nics[0].(map[string]any)
		if nic["AssociatePublicIpAddress"] != false {
			t.Errorf("bastion AssociatePublicIpAddress %v", nic["AssociatePublicIpAddress"])
		}
		if g := tp.subnetGroups([]any{nic["SubnetId"]}); !slices.Equal(g, []string{"app"}) {
			t.Errorf("bastion in %v, want a private app subnet", g)
		}
		if sgs := list(nic["GroupSet"]); len(sgs) != 1 || sgName(ref(sgs[0])) != "bastion" {
			t.Errorf("bastion security groups %s", js(sgs))
		}
		if p["Monitoring"] != true {
			t.Errorf("bastion detailed monitoring %v", p["Monitoring"])
		}
		if js(p["BlockDeviceMappings"]) != `[{"DeviceName":"/dev/xvda","Ebs":{"Encrypted":true,"VolumeSize":8,"VolumeType":"gp3"}}]` {
			t.Errorf("bastion volumes %s", js(p["BlockDeviceMappings"]))
		}
		lt := tp.Resources[ref(p["LaunchTemplate"].(map[string]any)["LaunchTemplateId"])]
		if js(lt.Properties["LaunchTemplateData"]) != `{"MetadataOptions":{"HttpPutResponseHopLimit":1,"HttpTokens":"required"},"Monitoring":{"Enabled":true}}` {
			t.Errorf("bastion metadata options %s, want IMDSv2 only", js(lt.Properties))
		}
		if _, ok := lt.Properties["LaunchTemplateName"]; ok {
			t.Error("the launch template has a fixed name: two stacks in a region would clash")
		}
	})
}

func TestEmailAndOutputs(t *testing.T) {
	eachCase(t, func(t *testing.T, c tcase, tp *tpl) {
		_, id := tp.one(t, "AWS::SES::EmailIdentity", "CofferEmailDomain")
		if js(id.Properties["EmailIdentity"]) != `{"Ref":"EmailDomain"}` {
			t.Errorf("SES identity %s", js(id.Properties["EmailIdentity"]))
		}
		want := []string{"AccessLogsBucket", "ClusterName", "DatabaseEndpoint", "DatabaseMasterSecretArn", "DatabaseReplicaEndpoint",
			"DkimRecord1", "DkimRecord2", "DkimRecord3", "LoadBalancerDnsName", "LogGroup", "RedisEndpoint", "ServiceName"}
		if c.public() {
			want = append(want, "LoadBalancerHostedZoneId")
		} else {
			want = append(want, "EndpointServiceName")
		}
		for _, o := range want {
			if _, ok := tp.Outputs[o]; !ok {
				t.Errorf("no output %s", o)
			}
		}
		// Every taggable resource carries the app tag (checked on a few kinds).
		for _, typ := range []string{"AWS::EC2::VPC", "AWS::ECS::Service", "AWS::RDS::DBInstance", "AWS::ElasticLoadBalancingV2::LoadBalancer"} {
			for _, rid := range tp.ofType(typ) {
				if !strings.Contains(js(tp.Resources[rid].Properties["Tags"]), `{"Key":"app","Value":"coffer"}`) {
					t.Errorf("%s has no app=coffer tag", rid)
				}
			}
		}
		t.Logf("%s: %d bytes, %d resources", tp.name, tp.size, len(tp.Resources))
	})
}
