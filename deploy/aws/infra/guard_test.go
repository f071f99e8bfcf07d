package infra_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strings"
	"sync"
	"testing"
)

// accepted are the Control Tower findings the reference deployment keeps on purpose, by
// rule, with the resources (logical-id prefixes) they may name and why. Every entry must
// still be found in some template, so the list cannot outlive its reason; Coffer's own rules
// (coffer_*) have no exception.
var accepted = map[string]struct {
	resources []string
	reason    string
}{
	"cloudwatch_log_group_encrypted_check": {[]string{"CofferFlowLogs", "CofferLogs"},
		"CT.CLOUDWATCH.PR.3: log groups use CloudWatch's own encryption; Coffer never logs a secret value, and a customer-managed KMS key is left to accounts whose policy asks for one"},
	"rds_storage_encrypted_kms_key_check": {[]string{"CofferDatabase"},
		"CT.RDS.PR.16: storage is encrypted with the AWS-managed aws/rds key; a customer-managed key only matters for cross-account snapshot sharing"},
	"rds_instance_no_default_ports_check": {[]string{"CofferDatabase"},
		"CT.RDS.PR.23: the issue fixes PostgreSQL on 5432; reachable only from the tasks' and the bastion's security groups, a different port hides nothing"},
	"elasticache_repl_grp_rbac_auth_enabled_check": {[]string{"CofferRedis"},
		"CT.ELASTICACHE.PR.5: the issue asks for an AUTH token from Secrets Manager; RBAC user groups are the alternative"},
	"elbv2_acm_certificate_required_check": {[]string{"CofferLoadBalancer"},
		"CT.ELASTICLOADBALANCING.PR.2: the certificate is the CertificateArn parameter, whose AllowedPattern requires an ACM ARN; the rule cannot see through a parameter"},
	"ec2_instance_nitro_encryption_in_transit_check": {[]string{"CofferBastion"},
		"CT.EC2.PR.12: the bastion is a t4g.nano; what it carries (Session Manager, psql with rds.force_ssl) is TLS already"},
	"s3_bucket_default_encryption_kms_check": {[]string{"CofferAccessLogs"},
		"CT.S3.PR.10: ALB access-log delivery supports only SSE-S3 on the target bucket"},
	"s3_bucket_logging_enabled_check": {[]string{"CofferAccessLogs"},
		"CT.S3.PR.2: this bucket holds access logs; logging it would need yet another bucket"},
	"s3_event_notifications_enabled_check": {[]string{"CofferAccessLogs"},
		"CT.S3.PR.4: nothing consumes events of the access-log bucket"},
	"s3_bucket_object_lock_enabled_check": {[]string{"CofferAccessLogs"},
		"CT.S3.PR.9: access logs expire after a year by lifecycle; object lock is a retention policy an account adds if it must"},
}

// finding is one rule a resource of a template does not comply with.
type finding struct{ template, rule, resource string }

func (f finding) String() string { return f.template + ": " + f.rule + " on " + f.resource }

func TestGuardRules(t *testing.T) {
	all := load(t)
	guard, ctRules := cfnGuard(t)
	dir := t.TempDir()
	for name, tp := range all {
		b, _ := json.Marshal(tp.raw)
		if err := os.WriteFile(filepath.Join(dir, name+".json"), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	findings := runGuard(t, guard, dir, append(relevantRules(t, ctRules, all), "../guard/coffer.guard")...)
	if len(findings) == 0 {
		t.Fatal("no finding at all: the accepted list expects some, so the rules did not run")
	}
	used := map[string]bool{}
	for _, f := range findings {
		a, ok := accepted[f.rule]
		if ok && anyOf(a.resources, func(p string) bool { return strings.HasPrefix(f.resource, p) }) {
			used[f.rule] = true
			continue
		}
		t.Errorf("guard finding not fixed nor accepted: %s", f)
	}
	for rule := range accepted {
		if !used[rule] {
			t.Errorf("accepted finding %s no longer occurs: drop it from the list", rule)
		}
	}
}

// TestGuardCatchesAnOpenedRule: Coffer's own rules fail a template whose database rule was
// opened to 0.0.0.0/0.
func TestGuardCatchesAnOpenedRule(t *testing.T) {
	tp := load(t)["private"]
	guard, _ := cfnGuard(t)
	var raw map[string]any
	b, _ := json.Marshal(tp.raw)
	json.Unmarshal(b, &raw)
	opened := 0
	for _, r := range raw["Resources"].(map[string]any) {
		r := r.(map[string]any)
		p, _ := r["Properties"].(map[string]any)
		if r["Type"] == "AWS::EC2::SecurityGroupIngress" && sgName(ref(p["GroupId"])) == "rds" {
			delete(p, "SourceSecurityGroupId")
			p["CidrIp"] = "0.0.0.0/0"
			opened++
		}
	}
	if opened == 0 {
		t.Fatal("no database ingress rule to open")
	}
	dir := t.TempDir()
	b, _ = json.Marshal(raw)
	if err := os.WriteFile(filepath.Join(dir, "opened.json"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	var rules []string
	for _, f := range runGuard(t, guard, dir, "../guard/coffer.guard") {
		rules = append(rules, f.rule+" on "+f.resource)
	}
	sort.Strings(rules)
	if len(rules) != opened || !strings.HasPrefix(rules[0], "coffer_sg_ingress_not_open on CofferDatabaseSG") {
		t.Errorf("findings %q, want coffer_sg_ingress_not_open on each of the %d opened rules", rules, opened)
	}
}

func anyOf(l []string, f func(string) bool) bool {
	for _, s := range l {
		if f(s) {
			return true
		}
	}
	return false
}

// relevantRules returns the Control Tower rule files that name a resource type some template
// has: the others select nothing and only cost time (cfn-guard reads 237 files slowly).
func relevantRules(t *testing.T, dir string, all map[string]*tpl) []string {
	t.Helper()
	types := map[string]bool{}
	for _, tp := range all {
		for _, r := range tp.Resources {
			types[r.Type] = true
		}
	}
	var out []string
	total := 0
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".guard") {
			return err
		}
		total++
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, m := range resourceType.FindAllString(string(b), -1) {
			if types[m] {
				out = append(out, path)
				break
			}
		}
		return nil
	})
	if err != nil || total < 200 {
		t.Fatalf("Control Tower rules in %s: %d files, %v", dir, total, err)
	}
	t.Logf("%d of %d Control Tower rule files apply to the templates' resource types", len(out), total)
	return out
}

var resourceType = regexp.MustCompile(`AWS::[A-Za-z0-9]+::[A-Za-z0-9]+`)

var resourcePath = regexp.MustCompile(`^/Resources/([A-Za-z0-9]+)`)

// runGuard validates every template in dir against the rules and returns the findings.
func runGuard(t *testing.T, guard, dir string, rules ...string) []finding {
	t.Helper()
	args := []string{"validate", "--data", dir, "--output-format", "json", "--structured", "--show-summary", "none"}
	for _, r := range rules {
		args = append(args, "--rules", r)
	}
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(guard, args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	if err != nil && !(errors.As(err, &exit) && exit.ExitCode() == 19) { // 19: some rule failed
		t.Fatalf("cfn-guard: %v\n%s", err, stderr.String())
	}
	var reports []struct {
		Name         string `json:"name"`
		NotCompliant []struct {
			Rule struct {
				Name   string `json:"name"`
				Checks any    `json:"checks"`
			} `json:"Rule"`
		} `json:"not_compliant"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &reports); err != nil {
		t.Fatalf("cfn-guard output: %v\n%.2000s", err, stdout.String())
	}
	if len(reports) == 0 {
		t.Fatalf("cfn-guard validated nothing:\n%s", stderr.String())
	}
	seen := map[finding]bool{}
	var out []finding
	for _, r := range reports {
		name := strings.TrimSuffix(filepath.Base(r.Name), ".json")
		for _, nc := range r.NotCompliant {
			res := map[string]bool{}
			collectResources(nc.Rule.Checks, res)
			if len(res) == 0 {
				res["(template)"] = true
			}
			for id := range res {
				f := finding{name, nc.Rule.Name, id}
				if !seen[f] {
					seen[f] = true
					out = append(out, f)
				}
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].String() < out[j].String() })
	return out
}

func collectResources(v any, into map[string]bool) {
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			if s, ok := x.(string); ok && k == "path" {
				if m := resourcePath.FindStringSubmatch(s); m != nil {
					into[m[1]] = true
				}
			}
			collectResources(x, into)
		}
	case []any:
		for _, x := range v {
			collectResources(x, into)
		}
	}
}

// cfnGuard returns the cfn-guard binary and the Control Tower rules directory shipped in the
// npm package pinned by testdata/cfnguard, installed with npm ci into the user cache the
// first time. Without npm (or the registry) the test skips loudly, or fails under CI=true.
func cfnGuard(t *testing.T) (binary, rules string) {
	t.Helper()
	g, err := guardInstall()
	bin, rules := g[0], g[1]
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal(err)
		}
		t.Skip("SKIPPING: " + err.Error())
	}
	return bin, rules
}

var guardInstall = sync.OnceValues(func() ([2]string, error) {
	bin, rules, err := installGuard()
	return [2]string{bin, rules}, err
})

func installGuard() (string, string, error) {
	osDir := map[string]string{"linux": "ubuntu", "darwin": "macos"}[runtime.GOOS]
	arch := map[string]string{"amd64": "x86_64", "arm64": "aarch64"}[runtime.GOARCH]
	if osDir == "" || arch == "" {
		return "", "", fmt.Errorf("the npm package ships cfn-guard for linux and macOS on amd64 and arm64, not %s/%s", runtime.GOOS, runtime.GOARCH)
	}
	src, err := filepath.Abs("../testdata/cfnguard")
	if err != nil {
		return "", "", err
	}
	h := sha256.New()
	for _, f := range []string{"package.json", "package-lock.json"} {
		b, err := os.ReadFile(filepath.Join(src, f))
		if err != nil {
			return "", "", err
		}
		h.Write(b)
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = os.TempDir()
	}
	dir := filepath.Join(cache, "coffer-test", "cfnguard-"+hex.EncodeToString(h.Sum(nil))[:16])
	pkg := filepath.Join(dir, "node_modules", "@cdklabs", "cdk-validator-cfnguard")
	bin := filepath.Join(pkg, "bin", osDir, arch, "cfn-guard")
	rules := filepath.Join(pkg, "rules", "control-tower", "cfn-guard")
	if _, err := os.Stat(bin); err == nil {
		return bin, rules, nil
	}
	if _, err := exec.LookPath("npm"); err != nil {
		return "", "", errors.New("cfn-guard comes from the npm package @cdklabs/cdk-validator-cfnguard and npm is not installed (apt-get install npm)")
	}
	tmp := fmt.Sprintf("%s.tmp%d", dir, os.Getpid())
	os.RemoveAll(tmp)
	if err := os.MkdirAll(tmp, 0o755); err != nil {
		return "", "", err
	}
	defer os.RemoveAll(tmp)
	for _, f := range []string{"package.json", "package-lock.json"} {
		b, _ := os.ReadFile(filepath.Join(src, f))
		if err := os.WriteFile(filepath.Join(tmp, f), b, 0o644); err != nil {
			return "", "", err
		}
	}
	// --legacy-peer-deps: the package's peer dependency (aws-cdk-lib, 200 MB) is not needed
	// to run the binary and the rules.
	cmd := exec.Command("npm", "ci", "--legacy-peer-deps", "--ignore-scripts", "--no-audit", "--no-fund", "--loglevel=error")
	cmd.Dir = tmp
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", "", fmt.Errorf("npm ci of the cfn-guard package: %v\n%s", err, out)
	}
	if err := os.Rename(tmp, dir); err != nil {
		if _, statErr := os.Stat(bin); statErr != nil { // not a lost race with another run
			return "", "", err
		}
	}
	if _, err := os.Stat(bin); err != nil {
		return "", "", fmt.Errorf("the npm package has no cfn-guard at %s", bin)
	}
	return bin, rules, nil
}
