package infra_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/cofferhq/coffer/deploy/aws/infra"
)

// sgNames maps a security group's logical-id prefix to its short name in the rules below.
var sgNames = map[string]string{
	"CofferLoadBalancerSG": "lb",
	"CofferServiceSG":      "ecs",
	"CofferDatabaseSG":     "rds",
	"CofferRedisSG":        "redis",
	"CofferBastionSG":      "bastion",
	"CofferEndpointSG":     "endpoints",
}

// sgName returns the short name of the security group with logical id id, or "?id".
func sgName(id string) string {
	for prefix, n := range sgNames {
		if strings.HasPrefix(id, prefix) && len(id) == len(prefix)+8 { // + CDK's 8-hex hash
			return n
		}
	}
	return "?" + id
}

// rule renders one ingress or egress rule: "tcp 443 from 0.0.0.0/0", "tcp 8080 from sg:lb".
func rule(m map[string]any, dir string) string {
	port := fmt.Sprint(m["FromPort"])
	if m["ToPort"] != m["FromPort"] {
		port += "-" + fmt.Sprint(m["ToPort"])
	}
	var peer string
	for _, k := range []string{"CidrIp", "CidrIpv6", "SourcePrefixListId", "DestinationPrefixListId"} {
		if v, ok := m[k]; ok {
			peer = fmt.Sprint(v)
		}
	}
	for _, k := range []string{"SourceSecurityGroupId", "DestinationSecurityGroupId"} {
		if v, ok := m[k]; ok {
			peer = "sg:" + sgName(ref(v))
		}
	}
	return fmt.Sprintf("%v %s %s %s", m["IpProtocol"], port, dir, peer)
}

// rules returns every security group's rules, inline and separate, by short name.
func rules(t *tpl, kind string) map[string][]string {
	inline, separate, dir := "SecurityGroupIngress", "AWS::EC2::SecurityGroupIngress", "from"
	if kind == "egress" {
		inline, separate, dir = "SecurityGroupEgress", "AWS::EC2::SecurityGroupEgress", "to"
	}
	out := map[string][]string{}
	for _, id := range t.ofType("AWS::EC2::SecurityGroup") {
		n := sgName(id)
		out[n] = []string{}
		for _, r := range list(t.Resources[id].Properties[inline]) {
			out[n] = append(out[n], rule(r.(map[string]any), dir))
		}
	}
	for _, id := range t.ofType(separate) {
		p := t.Resources[id].Properties
		n := sgName(ref(p["GroupId"]))
		out[n] = append(out[n], rule(p, dir))
	}
	for n := range out {
		sort.Strings(out[n])
	}
	return out
}

// wantIngress is the list of inbound rules, exactly, for a case.
func wantIngress(c tcase) map[string][]string {
	cidrs := c.opts.AllowedCIDRs
	if len(cidrs) == 0 {
		cidrs = []string{"0.0.0.0/0"}
		if !c.public() {
			cidrs = []string{c.opts.VPCCIDR}
		}
	}
	var lb []string
	for _, cidr := range cidrs {
		lb = append(lb, "tcp 443 from "+cidr)
		if c.public() {
			lb = append(lb, "tcp 80 from "+cidr)
		}
	}
	app := fmt.Sprint(infra.AppPort)
	want := map[string][]string{
		"lb":      lb,
		"ecs":     {"tcp " + app + " from sg:ecs", "tcp " + app + " from sg:lb"},
		"rds":     {"tcp 5432 from sg:bastion", "tcp 5432 from sg:ecs"},
		"redis":   {"tcp 6379 from sg:ecs"},
		"bastion": {},
	}
	if c.airGapped() {
		want["endpoints"] = []string{"tcp 443 from sg:bastion", "tcp 443 from sg:ecs", "tcp 587 from sg:ecs"}
	}
	for n := range want {
		sort.Strings(want[n])
	}
	return want
}

// checkIngress compares every security group's inbound rules with want and reports each
// difference, including a group that should not exist.
func checkIngress(t *tpl, want map[string][]string) []string {
	var errs []string
	have := rules(t, "ingress")
	for n, w := range want {
		if h, ok := have[n]; !ok {
			errs = append(errs, fmt.Sprintf("security group %s missing", n))
		} else if !slices.Equal(h, w) {
			errs = append(errs, fmt.Sprintf("%s ingress:\n have %q\n want %q", n, h, w))
		}
	}
	for n := range have {
		if _, ok := want[n]; !ok {
			errs = append(errs, fmt.Sprintf("unexpected security group %s with ingress %q", n, have[n]))
		}
	}
	return errs
}

// checkOpenIngress reports any rule open to the whole internet other than the public ALB's
// 443 and 80.
func checkOpenIngress(t *tpl, c tcase) []string {
	var errs []string
	for n, rs := range rules(t, "ingress") {
		for _, r := range rs {
			if !strings.HasSuffix(r, " 0.0.0.0/0") && !strings.HasSuffix(r, " ::/0") {
				continue
			}
			if c.public() && n == "lb" && (r == "tcp 443 from 0.0.0.0/0" || r == "tcp 80 from 0.0.0.0/0") {
				continue
			}
			errs = append(errs, fmt.Sprintf("%s is open to the internet: %s", n, r))
		}
	}
	sort.Strings(errs)
	return errs
}

func TestSecurityGroupsExact(t *testing.T) {
	eachCase(t, func(t *testing.T, c tcase, tp *tpl) {
		for _, e := range checkIngress(tp, wantIngress(c)) {
			t.Error(e)
		}
		for _, e := range checkOpenIngress(tp, c) {
			t.Error(e)
		}
	})
}

// TestSecurityGroupChecksCatchAnOpenedRule proves the checks above fail when one rule is
// changed to 0.0.0.0/0: the database's rule from the tasks.
func TestSecurityGroupChecksCatchAnOpenedRule(t *testing.T) {
	tp := load(t)["public"]
	var mutated tpl
	b, _ := json.Marshal(tp.raw)
	if err := json.Unmarshal(b, &mutated); err != nil {
		t.Fatal(err)
	}
	mutated.name = "mutated"
	changed := 0
	for id, r := range mutated.Resources {
		if r.Type == "AWS::EC2::SecurityGroupIngress" && sgName(ref(r.Properties["GroupId"])) == "rds" &&
			sgName(ref(r.Properties["SourceSecurityGroupId"])) == "ecs" {
			delete(r.Properties, "SourceSecurityGroupId")
			r.Properties["CidrIp"] = "0.0.0.0/0"
			mutated.Resources[id] = r
			changed++
		}
	}
	if changed != 1 {
		t.Fatalf("found %d rules for rds from ecs to open, want 1", changed)
	}
	c := tcase{"public", infra.Defaults(infra.Public)}
	if errs := checkIngress(&mutated, wantIngress(c)); len(errs) != 1 || !strings.Contains(errs[0], `"tcp 5432 from 0.0.0.0/0"`) {
		t.Errorf("checkIngress on the opened rule: %q", errs)
	}
	if errs := checkOpenIngress(&mutated, c); !slices.Equal(errs, []string{"rds is open to the internet: tcp 5432 from 0.0.0.0/0"}) {
		t.Errorf("checkOpenIngress on the opened rule: %q", errs)
	}
}

// TestSecurityGroupEgress: no group keeps EC2's default allow-all egress (each has an inline
// egress list), and the data tier's groups send nothing at all.
func TestSecurityGroupEgress(t *testing.T) {
	const none = "icmp 252-86 to 255.255.255.255/32" // CDK's rule that matches no traffic
	eachCase(t, func(t *testing.T, c tcase, tp *tpl) {
		for _, id := range tp.ofType("AWS::EC2::SecurityGroup") {
			if len(list(tp.Resources[id].Properties["SecurityGroupEgress"])) == 0 {
				t.Errorf("%s has no inline egress rule: EC2 would add allow-all egress", sgName(id))
			}
		}
		app := fmt.Sprint(infra.AppPort)
		want := map[string][]string{
			"lb":      {none, "tcp " + app + " to sg:ecs"},
			"ecs":     {"tcp 443 to 0.0.0.0/0", "tcp 5432 to sg:rds", "tcp 587 to 0.0.0.0/0", "tcp 6379 to sg:redis"},
			"rds":     {none},
			"redis":   {none},
			"bastion": {"tcp 443 to 0.0.0.0/0", "tcp 5432 to sg:rds"},
		}
		if c.airGapped() {
			want["endpoints"] = []string{none}
		}
		have := rules(tp, "egress")
		for n, w := range want {
			sort.Strings(w)
			if !slices.Equal(have[n], w) {
				t.Errorf("%s egress:\n have %q\n want %q", n, have[n], w)
			}
		}
		if len(have) != len(want) {
			t.Errorf("security groups %v, want %d", have, len(want))
		}
	})
}
