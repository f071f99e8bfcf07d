package infra_test

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/cofferhq/coffer/deploy/aws/infra"
)

// ssmParams maps each root credential's environment variable to the stack parameter naming
// its SSM SecureString.
var ssmParams = map[string]string{
	"COFFER_DATABASE_URL":           "DatabaseUrlParameter",
	"COFFER_DATABASE_READ_REPLICAS": "DatabaseReadReplicasParameter",
	"COFFER_ROOT_KEY":               "RootKeyParameter",
	"COFFER_AUTH_SECRET":            "AuthSecretParameter",
	"COFFER_SMTP_USERNAME":          "SmtpUsernameParameter",
	"COFFER_SMTP_PASSWORD":          "SmtpPasswordParameter",
}

// paramARN is how the template spells the ARN of the SSM parameter named by stack parameter p.
func paramARN(p string) string {
	return `{"Fn::Join":["",["arn:",{"Ref":"AWS::Partition"},":ssm:",{"Ref":"AWS::Region"},":",{"Ref":"AWS::AccountId"},":parameter",{"Ref":"` + p + `"}]]}`
}

func TestService(t *testing.T) {
	eachCase(t, func(t *testing.T, c tcase, tp *tpl) {
		_, svc := tp.one(t, "AWS::ECS::Service", "CofferService")
		p := svc.Properties
		if p["LaunchType"] != "FARGATE" {
			t.Errorf("LaunchType %v", p["LaunchType"])
		}
		vpc := p["NetworkConfiguration"].(map[string]any)["AwsvpcConfiguration"].(map[string]any)
		if vpc["AssignPublicIp"] != "DISABLED" {
			t.Errorf("AssignPublicIp %v, want DISABLED", vpc["AssignPublicIp"])
		}
		if g := tp.subnetGroups(vpc["Subnets"]); !slices.Equal(g, []string{"app"}) || len(list(vpc["Subnets"])) != c.opts.AZs {
			t.Errorf("tasks in subnets %v of groups %v, want one app subnet per AZ (%d)", vpc["Subnets"], g, c.opts.AZs)
		}
		if sgs := list(vpc["SecurityGroups"]); len(sgs) != 1 || sgName(ref(sgs[0])) != "ecs" {
			t.Errorf("task security groups %v", sgs)
		}
		dc := p["DeploymentConfiguration"].(map[string]any)
		if js(dc["DeploymentCircuitBreaker"]) != `{"Enable":true,"Rollback":true}` {
			t.Errorf("circuit breaker %s", js(dc["DeploymentCircuitBreaker"]))
		}
		if dc["MinimumHealthyPercent"] != 100.0 || dc["MaximumPercent"] != 200.0 {
			t.Errorf("deployment percentages %v/%v, want 100/200", dc["MinimumHealthyPercent"], dc["MaximumPercent"])
		}
		const count = `{"Fn::If":["ServiceStarted",{"Ref":"MinTasks"},0]}`
		if js(p["DesiredCount"]) != count {
			t.Errorf("DesiredCount %s, want %s", js(p["DesiredCount"]), count)
		}
		if min := tp.Parameters["MinTasks"]; min["Default"] != 2.0 || min["MinValue"] != 2.0 {
			t.Errorf("MinTasks parameter %v: want default 2 and at least 2", min)
		}
		if js(tp.Conditions["ServiceStarted"]) != `{"Fn::Equals":[{"Ref":"StartService"},"true"]}` || tp.Parameters["StartService"]["Default"] != "true" {
			t.Errorf("ServiceStarted %s, StartService %v", js(tp.Conditions["ServiceStarted"]), tp.Parameters["StartService"])
		}
		_, cluster := tp.one(t, "AWS::ECS::Cluster", "CofferCluster")
		if js(cluster.Properties["ClusterSettings"]) != `[{"Name":"containerInsights","Value":"enabled"}]` {
			t.Errorf("cluster settings %s", js(cluster.Properties["ClusterSettings"]))
		}
		lbs := list(p["LoadBalancers"])
		if len(lbs) != 1 || js(lbs[0].(map[string]any)["ContainerPort"]) != fmt.Sprint(infra.AppPort) {
			t.Errorf("service load balancers %s", js(lbs))
		}
	})
}

func TestTaskDefinition(t *testing.T) {
	eachCase(t, func(t *testing.T, c tcase, tp *tpl) {
		_, td := tp.one(t, "AWS::ECS::TaskDefinition", "CofferTask")
		containers := list(td.Properties["ContainerDefinitions"])
		if len(containers) != 1 {
			t.Fatalf("%d containers", len(containers))
		}
		ct := containers[0].(map[string]any)
		if ct["ReadonlyRootFilesystem"] != true {
			t.Errorf("ReadonlyRootFilesystem %v", ct["ReadonlyRootFilesystem"])
		}
		user, _ := ct["User"].(string)
		uid, _, _ := strings.Cut(user, ":")
		if uid == "" || uid == "0" || uid == "root" {
			t.Errorf("User %q, want a non-root uid", user)
		}
		if ct["Memory"] != float64(c.opts.TaskMemoryMiB) {
			t.Errorf("container memory hard limit %v, want %d", ct["Memory"], c.opts.TaskMemoryMiB)
		}
		if ct["Privileged"] == true {
			t.Error("privileged container")
		}
		if js(ct["Image"]) != `{"Ref":"Image"}` {
			t.Errorf("Image %s, want the Image parameter", js(ct["Image"]))
		}
		wantEnv := map[string]string{
			"COFFER_LISTEN":              fmt.Sprintf(`"0.0.0.0:%d"`, infra.AppPort),
			"COFFER_LOG_FORMAT":          `"json"`,
			"COFFER_SHUTDOWN_DRAIN":      `"15s"`,
			"COFFER_SITE_URL":            `{"Ref":"SiteUrl"}`,
			"COFFER_ROOT_KEY_KMS_KEY_ID": `{"Ref":"RootKeyKmsKeyArn"}`,
			"COFFER_SMTP_HOST":           `{"Fn::Sub":"email-smtp.${AWS::Region}.${AWS::URLSuffix}"}`,
			"COFFER_SMTP_PORT":           `"587"`,
			"COFFER_SMTP_FROM":           `{"Fn::Join":["",["coffer@",{"Ref":"EmailDomain"}]]}`,
		}
		switch {
		case c.public():
			wantEnv["COFFER_TRUSTED_PROXIES"] = `"` + c.opts.VPCCIDR + `"`
		case c.opts.NLBMode == infra.NLBTCP:
			wantEnv["COFFER_PROXY_PROTOCOL"] = `"on"`
			wantEnv["COFFER_TRUSTED_PROXIES"] = `"` + c.opts.VPCCIDR + `"`
			wantEnv["COFFER_TLS_CERT_FILE"] = `"/etc/coffer/tls/tls.crt"`
			wantEnv["COFFER_TLS_KEY_FILE"] = `"/etc/coffer/tls/tls.key"`
		}
		if have := env(ct); js(have) != js(wantEnv) {
			t.Errorf("environment\n have %s\n want %s", js(have), js(wantEnv))
		}
		// Every credential comes through secrets, from the parameter the operator named.
		have := map[string]string{}
		for _, s := range list(ct["Secrets"]) {
			m := s.(map[string]any)
			have[m["Name"].(string)] = js(m["ValueFrom"])
		}
		want := map[string]string{}
		for e, p := range ssmParams {
			want[e] = paramARN(p)
		}
		_, redisURL := tp.one(t, "AWS::SecretsManager::Secret", "CofferRedisUrl")
		want["COFFER_REDIS_URL"] = `{"Ref":"` + mustID(t, tp, "AWS::SecretsManager::Secret", "CofferRedisUrl") + `"}`
		if js(have) != js(want) {
			t.Errorf("secrets\n have %s\n want %s", js(have), js(want))
		}
		if !strings.HasPrefix(js(redisURL.Properties["SecretString"]), `{"Fn::Join":["",["rediss://:{{resolve:secretsmanager:`) {
			t.Errorf("redis URL secret %s, want rediss:// with the AUTH token", js(redisURL.Properties["SecretString"]))
		}
		for _, p := range ssmParams {
			if tp.Parameters[p]["AllowedPattern"] != `^/[a-zA-Z0-9_.\-/]+$` {
				t.Errorf("parameter %s accepts %v, want a full path", p, tp.Parameters[p]["AllowedPattern"])
			}
		}
		// Logs go to the stack's log group, which expires.
		lc := ct["LogConfiguration"].(map[string]any)
		group := ref(lc["Options"].(map[string]any)["awslogs-group"])
		if lc["LogDriver"] != "awslogs" || tp.Resources[group].Type != "AWS::Logs::LogGroup" {
			t.Errorf("log configuration %s", js(lc))
		} else if r := tp.Resources[group].Properties["RetentionInDays"]; r != 365.0 {
			t.Errorf("log retention %v days, want 365", r)
		}
		if st := ct["StopTimeout"]; st != 30.0 {
			t.Errorf("StopTimeout %v, want 30 (drain 15s + shutdown 10s + 5s)", st)
		}
	})
}

func mustID(t *testing.T, tp *tpl, typ, prefix string) string {
	t.Helper()
	id, _ := tp.one(t, typ, prefix)
	return id
}

func TestAutoScaling(t *testing.T) {
	eachCase(t, func(t *testing.T, c tcase, tp *tpl) {
		_, st := tp.one(t, "AWS::ApplicationAutoScaling::ScalableTarget", "CofferService")
		if js(st.Properties["MinCapacity"]) != `{"Fn::If":["ServiceStarted",{"Ref":"MinTasks"},0]}` || js(st.Properties["MaxCapacity"]) != `{"Ref":"MaxTasks"}` {
			t.Errorf("scalable target min %s max %s", js(st.Properties["MinCapacity"]), js(st.Properties["MaxCapacity"]))
		}
		var metrics []string
		for _, id := range tp.ofType("AWS::ApplicationAutoScaling::ScalingPolicy") {
			cfg := tp.Resources[id].Properties["TargetTrackingScalingPolicyConfiguration"].(map[string]any)
			spec := cfg["PredefinedMetricSpecification"].(map[string]any)
			metrics = append(metrics, fmt.Sprintf("%v=%v", spec["PredefinedMetricType"], cfg["TargetValue"]))
		}
		sort.Strings(metrics)
		want := []string{"ECSServiceAverageCPUUtilization=60", "ECSServiceAverageMemoryUtilization=75"}
		if c.public() {
			want = []string{"ALBRequestCountPerTarget=1000", "ECSServiceAverageCPUUtilization=60"}
		}
		if !slices.Equal(metrics, want) {
			t.Errorf("scaling policies %q, want %q", metrics, want)
		}
	})
}
