package infra_test

import (
	"fmt"
	"slices"
	"sort"
	"testing"

	"github.com/cofferhq/coffer/deploy/aws/infra"
)

const tlsPolicy = "ELBSecurityPolicy-TLS13-1-2-2021-06" // TLS 1.2 and 1.3 only

func TestPublicLoadBalancer(t *testing.T) {
	eachCase(t, func(t *testing.T, c tcase, tp *tpl) {
		if !c.public() {
			return
		}
		lbID, lb := tp.one(t, "AWS::ElasticLoadBalancingV2::LoadBalancer", "CofferLoadBalancer")
		p := lb.Properties
		if p["Type"] != "application" || p["Scheme"] != "internet-facing" {
			t.Errorf("load balancer %v %v", p["Type"], p["Scheme"])
		}
		if g := tp.subnetGroups(p["Subnets"]); !slices.Equal(g, []string{"public"}) {
			t.Errorf("ALB in subnet groups %v", g)
		}
		if sgs := list(p["SecurityGroups"]); len(sgs) != 1 || sgName(ref(sgs[0])) != "lb" {
			t.Errorf("ALB security groups %s", js(sgs))
		}
		attrs := attributes(p["LoadBalancerAttributes"])
		bucket := mustID(t, tp, "AWS::S3::Bucket", "CofferAccessLogs")
		for k, v := range map[string]string{
			"routing.http.drop_invalid_header_fields.enabled": "true",
			"access_logs.s3.enabled":                          "true",
			"access_logs.s3.bucket":                           fmt.Sprint(map[string]any{"Ref": bucket}),
			"access_logs.s3.prefix":                           "alb",
			"deletion_protection.enabled":                     "true",
		} {
			if attrs[k] != v {
				t.Errorf("ALB attribute %s = %q, want %q", k, attrs[k], v)
			}
		}
		// Exactly two listeners: HTTPS to the targets, HTTP redirecting to it.
		var listeners []string
		tgID := mustID(t, tp, "AWS::ElasticLoadBalancingV2::TargetGroup", "CofferTargets")
		for _, id := range tp.ofType("AWS::ElasticLoadBalancingV2::Listener") {
			l := tp.Resources[id].Properties
			if ref(l["LoadBalancerArn"]) != lbID {
				t.Errorf("listener %s on another load balancer", id)
			}
			listeners = append(listeners, fmt.Sprintf("%v %v certs=%s policy=%v actions=%s", l["Port"], l["Protocol"], js(l["Certificates"]), l["SslPolicy"], js(l["DefaultActions"])))
		}
		sort.Strings(listeners)
		want := []string{
			`443 HTTPS certs=[{"CertificateArn":{"Ref":"CertificateArn"}}] policy=` + tlsPolicy + ` actions=[{"TargetGroupArn":{"Ref":"` + tgID + `"},"Type":"forward"}]`,
			`80 HTTP certs=null policy=<nil> actions=[{"RedirectConfig":{"Port":"443","Protocol":"HTTPS","StatusCode":"HTTP_301"},"Type":"redirect"}]`,
		}
		if !slices.Equal(listeners, want) {
			t.Errorf("listeners\n have %q\n want %q", listeners, want)
		}
		for _, id := range tp.ofType("AWS::ElasticLoadBalancingV2::Listener") {
			l := tp.Resources[id].Properties
			if l["Protocol"] == "HTTPS" && js(l["ListenerAttributes"]) != `[{"Key":"routing.http.response.strict_transport_security.header_value","Value":"max-age=63072000; includeSubDomains"}]` {
				t.Errorf("HTTPS listener attributes %s, want HSTS", js(l["ListenerAttributes"]))
			}
		}
		if tp.Parameters["CertificateArn"]["Type"] != "String" {
			t.Errorf("CertificateArn parameter %v", tp.Parameters["CertificateArn"])
		}
		checkTargetGroup(t, tp, "HTTP", "HTTP", false)
		// Access logs: private, encrypted, TLS-only bucket that log delivery may write to.
		b := tp.Resources[bucket].Properties
		if js(b["PublicAccessBlockConfiguration"]) != `{"BlockPublicAcls":true,"BlockPublicPolicy":true,"IgnorePublicAcls":true,"RestrictPublicBuckets":true}` {
			t.Errorf("bucket public access block %s", js(b["PublicAccessBlockConfiguration"]))
		}
		if js(b["BucketEncryption"]) != `{"ServerSideEncryptionConfiguration":[{"ServerSideEncryptionByDefault":{"SSEAlgorithm":"AES256"}}]}` {
			t.Errorf("bucket encryption %s", js(b["BucketEncryption"]))
		}
		polID, pol := tp.one(t, "AWS::S3::BucketPolicy", "CofferAccessLogsPolicy")
		checkLogsFirst(t, tp, lbID, polID)
		stmts := list(pol.Properties["PolicyDocument"].(map[string]any)["Statement"])
		if len(stmts) != 3 || js(stmts[0].(map[string]any)["Condition"]) != `{"Bool":{"aws:SecureTransport":"false"}}` || stmts[0].(map[string]any)["Effect"] != "Deny" {
			t.Errorf("bucket policy %s", js(stmts))
		}
		if js(stmts[1].(map[string]any)["Principal"]) != `{"Service":"logdelivery.elasticloadbalancing.amazonaws.com"}` {
			t.Errorf("log delivery statement %s", js(stmts[1]))
		}
	})
}

// checkLogsFirst: the load balancer is created after the bucket policy that lets it log
// (ELB checks the permission when logging is turned on).
func checkLogsFirst(t *testing.T, tp *tpl, lbID, policyID string) {
	t.Helper()
	var deps []string
	switch d := tp.raw["Resources"].(map[string]any)[lbID].(map[string]any)["DependsOn"].(type) {
	case string:
		deps = []string{d}
	case []any:
		for _, x := range d {
			deps = append(deps, x.(string))
		}
	}
	if !slices.Contains(deps, policyID) {
		t.Errorf("load balancer depends on %v, not on the log bucket policy %s", deps, policyID)
	}
}

// checkTargetGroup: IP targets on the app port, health check on /readyz, deregistration
// delay = drain + 5s.
func checkTargetGroup(t *testing.T, tp *tpl, protocol, hcProtocol string, proxy bool) {
	t.Helper()
	_, tg := tp.one(t, "AWS::ElasticLoadBalancingV2::TargetGroup", "CofferTargets")
	p := tg.Properties
	if p["TargetType"] != "ip" || p["Port"] != float64(infra.AppPort) || p["Protocol"] != protocol {
		t.Errorf("target group %v %v %v", p["TargetType"], p["Port"], p["Protocol"])
	}
	if p["HealthCheckPath"] != "/readyz" || p["HealthCheckProtocol"] != hcProtocol || js(p["Matcher"]) != `{"HttpCode":"200"}` {
		t.Errorf("health check %v %v %s", p["HealthCheckProtocol"], p["HealthCheckPath"], js(p["Matcher"]))
	}
	attrs := attributes(p["TargetGroupAttributes"])
	if attrs["deregistration_delay.timeout_seconds"] != "20" {
		t.Errorf("deregistration delay %q, want 20 (COFFER_SHUTDOWN_DRAIN 15s + 5s)", attrs["deregistration_delay.timeout_seconds"])
	}
	if protocol == "TCP" && attrs["proxy_protocol_v2.enabled"] != fmt.Sprint(proxy) {
		t.Errorf("proxy_protocol_v2.enabled %q, want %v", attrs["proxy_protocol_v2.enabled"], proxy)
	}
}

func TestPrivateLoadBalancer(t *testing.T) {
	eachCase(t, func(t *testing.T, c tcase, tp *tpl) {
		if c.public() {
			return
		}
		lbID, lb := tp.one(t, "AWS::ElasticLoadBalancingV2::LoadBalancer", "CofferLoadBalancer")
		p := lb.Properties
		if p["Type"] != "network" || p["Scheme"] != "internal" {
			t.Errorf("load balancer %v %v", p["Type"], p["Scheme"])
		}
		if g := tp.subnetGroups(p["Subnets"]); !slices.Equal(g, []string{"app"}) {
			t.Errorf("NLB in subnet groups %v", g)
		}
		if sgs := list(p["SecurityGroups"]); len(sgs) != 1 || sgName(ref(sgs[0])) != "lb" {
			t.Errorf("NLB security groups %s", js(sgs))
		}
		listeners := tp.ofType("AWS::ElasticLoadBalancingV2::Listener")
		if len(listeners) != 1 {
			t.Fatalf("listeners %v, want one", listeners)
		}
		l := tp.Resources[listeners[0]].Properties
		if l["Port"] != 443.0 || ref(l["LoadBalancerArn"]) != lbID {
			t.Errorf("listener on port %v", l["Port"])
		}
		if c.opts.NLBMode == infra.NLBTLS {
			if l["Protocol"] != "TLS" || l["SslPolicy"] != tlsPolicy || js(l["Certificates"]) != `[{"CertificateArn":{"Ref":"CertificateArn"}}]` {
				t.Errorf("TLS listener %s", js(l))
			}
			checkTargetGroup(t, tp, "TCP", "HTTP", false)
		} else {
			if l["Protocol"] != "TCP" || l["Certificates"] != nil {
				t.Errorf("TCP listener %s", js(l))
			}
			if _, ok := tp.Parameters["CertificateArn"]; ok {
				t.Error("tcp mode asks for a certificate it does not use")
			}
			checkTargetGroup(t, tp, "TCP", "HTTPS", true)
		}
		// Access logs (written for TLS listeners) to a private bucket, by this account only.
		bucket := mustID(t, tp, "AWS::S3::Bucket", "CofferAccessLogs")
		attrs := attributes(p["LoadBalancerAttributes"])
		if attrs["access_logs.s3.enabled"] != "true" || attrs["access_logs.s3.bucket"] != fmt.Sprint(map[string]any{"Ref": bucket}) || attrs["access_logs.s3.prefix"] != "nlb" {
			t.Errorf("NLB access log attributes %v", attrs)
		}
		polID, pol := tp.one(t, "AWS::S3::BucketPolicy", "CofferAccessLogsPolicy")
		checkLogsFirst(t, tp, lbID, polID)
		var sids []string
		for _, st := range list(pol.Properties["PolicyDocument"].(map[string]any)["Statement"]) {
			m := st.(map[string]any)
			sids = append(sids, fmt.Sprintf("%v %v %v %v", m["Sid"], m["Effect"], js(m["Principal"]), m["Action"]))
		}
		wantSids := []string{
			`DenyInsecureTransport Deny {"AWS":"*"} s3:*`,
			`LogDelivery Allow {"Service":"delivery.logs.amazonaws.com"} s3:PutObject`,
			`LogDeliveryAclCheck Allow {"Service":"delivery.logs.amazonaws.com"} s3:GetBucketAcl`,
		}
		if !slices.Equal(sids, wantSids) {
			t.Errorf("NLB log bucket policy\n have %q\n want %q", sids, wantSids)
		}
		// The endpoint service: acceptance required, only the allowed principals.
		esID, es := tp.one(t, "AWS::EC2::VPCEndpointService", "CofferEndpointService")
		if es.Properties["AcceptanceRequired"] != true || js(es.Properties["NetworkLoadBalancerArns"]) != `[{"Ref":"`+lbID+`"}]` {
			t.Errorf("endpoint service %s", js(es.Properties))
		}
		_, perms := tp.one(t, "AWS::EC2::VPCEndpointServicePermissions", "CofferEndpointService")
		if ref(perms.Properties["ServiceId"]) != esID {
			t.Errorf("permissions for %v", perms.Properties["ServiceId"])
		}
		want := js(c.opts.AllowedPrincipals)
		if len(c.opts.AllowedPrincipals) == 0 {
			want = `[{"Fn::Join":["",["arn:",{"Ref":"AWS::Partition"},":iam::",{"Ref":"AWS::AccountId"},":root"]]}]`
		}
		if have := js(perms.Properties["AllowedPrincipals"]); have != want {
			t.Errorf("allowed principals %s, want %s", have, want)
		}
		if _, ok := tp.Outputs["EndpointServiceName"]; !ok {
			t.Error("no EndpointServiceName output")
		}
	})
}
