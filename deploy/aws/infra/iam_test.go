package infra_test

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"
)

// grant is one Allow statement and the role it is attached to.
type grant struct {
	role      string
	actions   []string
	resources []string // JSON-rendered
}

// grants returns every Allow statement of every identity policy in the template, with the
// roles it is attached to, and the roles that have managed or inline policies besides.
func grants(t *testing.T, tp *tpl) []grant {
	t.Helper()
	var out []grant
	add := func(roles []string, doc any) {
		for _, s := range list(doc.(map[string]any)["Statement"]) {
			st := s.(map[string]any)
			if st["Effect"] != "Allow" {
				continue
			}
			var acts []string
			switch a := st["Action"].(type) {
			case string:
				acts = []string{a}
			case []any:
				for _, x := range a {
					acts = append(acts, x.(string))
				}
			}
			var res []string
			if r, ok := st["Resource"].([]any); ok {
				res = strs(r)
			} else {
				res = []string{js(st["Resource"])}
			}
			sort.Strings(acts)
			sort.Strings(res)
			for _, r := range roles {
				out = append(out, grant{role: r, actions: acts, resources: res})
			}
		}
	}
	for _, id := range append(tp.ofType("AWS::IAM::Policy"), tp.ofType("AWS::IAM::ManagedPolicy")...) {
		p := tp.Resources[id].Properties
		var roles []string
		for _, r := range list(p["Roles"]) {
			roles = append(roles, ref(r))
		}
		if len(list(p["Users"])) > 0 || len(list(p["Groups"])) > 0 {
			t.Errorf("policy %s is attached to users or groups", id)
		}
		add(roles, p["PolicyDocument"])
	}
	for _, id := range tp.ofType("AWS::IAM::Role") {
		p := tp.Resources[id].Properties
		for _, pol := range list(p["Policies"]) {
			add([]string{id}, pol.(map[string]any)["PolicyDocument"])
		}
		if m := list(p["ManagedPolicyArns"]); len(m) > 0 {
			out = append(out, grant{role: id, actions: []string{"managed:" + js(m)}})
		}
	}
	if len(tp.ofType("AWS::IAM::User")) > 0 || len(tp.ofType("AWS::IAM::AccessKey")) > 0 {
		t.Error("the stack creates IAM users or access keys")
	}
	return out
}

func TestIAM(t *testing.T) {
	eachCase(t, func(t *testing.T, c tcase, tp *tpl) {
		_, td := tp.one(t, "AWS::ECS::TaskDefinition", "CofferTask")
		exec, task := ref(td.Properties["ExecutionRoleArn"]), ref(td.Properties["TaskRoleArn"])
		if exec == "" || task == "" || exec == task {
			t.Fatalf("execution role %q, task role %q", exec, task)
		}
		for _, r := range []string{exec, task} {
			trust := js(tp.Resources[r].Properties["AssumeRolePolicyDocument"])
			if trust != `{"Statement":[{"Action":"sts:AssumeRole","Effect":"Allow","Principal":{"Service":"ecs-tasks.amazonaws.com"}}],"Version":"2012-10-17"}` {
				t.Errorf("%s trusted by %s", r, trust)
			}
		}
		var paramARNs []string
		for _, p := range ssmParams {
			paramARNs = append(paramARNs, paramARN(p))
		}
		sort.Strings(paramARNs)
		redisURL := `{"Ref":"` + mustID(t, tp, "AWS::SecretsManager::Secret", "CofferRedisUrl") + `"}`
		logGroup := `{"Fn::GetAtt":["` + mustID(t, tp, "AWS::Logs::LogGroup", "CofferLogs") + `","Arn"]}`
		ecrRepos := `{"Fn::Sub":"arn:${AWS::Partition}:ecr:${AWS::Region}:${AWS::AccountId}:repository/*"}`
		// The execution role's statements, exactly.
		wantExec := []string{
			fmt.Sprintf("[ecr:BatchCheckLayerAvailability ecr:BatchGetImage ecr:GetDownloadUrlForLayer] on [%s]", ecrRepos),
			`[ecr:GetAuthorizationToken] on ["*"]`,
			fmt.Sprintf("[logs:CreateLogStream logs:PutLogEvents] on [%s]", logGroup),
			fmt.Sprintf("[secretsmanager:GetSecretValue] on [%s]", redisURL),
			fmt.Sprintf("[ssm:GetParameters] on [%s]", strings.Join(paramARNs, " ")),
		}
		var haveExec []string
		bastionRoles := map[string]bool{}
		for _, g := range grants(t, tp) {
			line := fmt.Sprintf("%v on [%s]", g.actions, strings.Join(g.resources, " "))
			switch {
			case g.role == exec:
				haveExec = append(haveExec, line)
				continue
			case g.role == task:
				if line != `[kms:Decrypt] on [{"Ref":"RootKeyKmsKeyArn"}]` {
					t.Errorf("the task role has a permission beyond unwrapping the root key: %s", line)
				}
				continue
			case strings.HasPrefix(g.role, "CofferBastionInstanceRole"):
				bastionRoles[g.role] = true
				if line != `[ec2messages:AcknowledgeMessage ec2messages:DeleteMessage ec2messages:FailMessage ec2messages:GetEndpoint ec2messages:GetMessages ec2messages:SendReply ssm:UpdateInstanceInformation ssmmessages:CreateControlChannel ssmmessages:CreateDataChannel ssmmessages:OpenControlChannel ssmmessages:OpenDataChannel] on ["*"]` {
					t.Errorf("bastion permission %s, want only what Session Manager needs", line)
				}
				continue
			case strings.HasPrefix(g.role, "CofferDatabaseMonitoringRole"):
				if line != `[managed:[{"Fn::Join":["",["arn:",{"Ref":"AWS::Partition"},":iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole"]]}]] on []` {
					t.Errorf("RDS monitoring role permission %s", line)
				}
				continue
			}
			// Any other role (the flow logs') must not touch credentials or use wildcards.
			for _, a := range g.actions {
				if a == "*" || strings.HasPrefix(a, "ssm:") || strings.HasPrefix(a, "secretsmanager:") || strings.HasPrefix(a, "kms:") || strings.HasSuffix(a, ":*") {
					t.Errorf("role %s may %s", g.role, line)
				}
			}
			if slices.Contains(g.resources, `"*"`) {
				t.Errorf("role %s has a statement on every resource: %s", g.role, line)
			}
		}
		sort.Strings(haveExec)
		if !slices.Equal(haveExec, wantExec) {
			t.Errorf("execution role statements\n have %q\n want %q", haveExec, wantExec)
		}
		// The task role's one statement exists only when a KMS-wrapped root key is configured.
		_, rk := tp.one(t, "AWS::IAM::Policy", "CofferTaskRootKeyPolicy")
		if st := list(rk.Properties["PolicyDocument"].(map[string]any)["Statement"]); len(st) != 1 ||
			js(st[0].(map[string]any)["Condition"]) != `{"StringEquals":{"kms:EncryptionContext:coffer":"root-key"}}` {
			t.Errorf("root key statement %s, want it limited to the root-key encryption context", js(st))
		}
		if rk.Condition != "RootKeyWrapped" || js(tp.Conditions["RootKeyWrapped"]) != `{"Fn::Not":[{"Fn::Equals":[{"Ref":"RootKeyKmsKeyArn"},""]}]}` {
			t.Errorf("task role policy condition %q: %s", rk.Condition, js(tp.Conditions["RootKeyWrapped"]))
		}
		if len(bastionRoles) != 1 {
			t.Errorf("bastion roles %v", bastionRoles)
		}
		// Nothing else may read SSM parameters or secrets: no resource policy grants them
		// either (the only resource policy is the access-log bucket's).
		for _, typ := range []string{"AWS::SecretsManager::ResourcePolicy", "AWS::KMS::Key", "AWS::SSM::Parameter"} {
			if ids := tp.ofType(typ); len(ids) > 0 {
				t.Errorf("unexpected %s: %v", typ, ids)
			}
		}
	})
}
