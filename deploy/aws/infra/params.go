package infra

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// ssmNamePattern is what an SSM parameter name given as a stack parameter must look like: a
// full path, so that its ARN is arn:…:parameter/NAME.
const ssmNamePattern = `^/[a-zA-Z0-9_.\-/]+$`

// params are the template's CloudFormation parameters: what differs between accounts.
type params struct {
	image, certificateARN, siteURL, emailDomain *string
	// SSM SecureString parameter names, keyed by the environment variable they fill.
	ssm          []ssmSecret
	minTasks     *float64
	maxTasks     *float64
	startService awscdk.CfnCondition
	// rootKeyKMS is the KMS key that wraps COFFER_ROOT_KEY, or "" for a plain root key;
	// rootKeyWrapped is true when it is set.
	rootKeyKMS     *string
	rootKeyWrapped awscdk.CfnCondition
}

// ssmSecret is one root credential: the environment variable the task sees and the stack
// parameter naming the SSM SecureString that holds it.
type ssmSecret struct {
	env   string
	param awscdk.CfnParameter
}

func newParams(scope constructs.Construct, opts Options) *params {
	stack := awscdk.Stack_Of(scope)
	str := func(id, desc, def, pattern string) awscdk.CfnParameter {
		p := &awscdk.CfnParameterProps{Type: jsii.String("String"), Description: jsii.String(desc)}
		if def != "" {
			p.Default = jsii.String(def)
		}
		if pattern != "" {
			p.AllowedPattern = jsii.String(pattern)
		}
		return awscdk.NewCfnParameter(stack, jsii.String(id), p)
	}
	p := &params{}
	p.image = str("Image", "Coffer container image (e.g. 123456789012.dkr.ecr.eu-west-1.amazonaws.com/coffer:1.0.0).", "", `^\S+$`).ValueAsString()
	if opts.Variant == Public || opts.NLBMode == NLBTLS {
		p.certificateARN = str("CertificateArn", "ACM certificate ARN for the load balancer's TLS listener.", "", `^arn:aws[a-z-]*:acm:.+$`).ValueAsString()
	}
	p.siteURL = str("SiteUrl", "Public base URL of Coffer (COFFER_SITE_URL), e.g. https://coffer.example.com.", "", `^https://\S+$`).ValueAsString()
	p.emailDomain = str("EmailDomain", "Domain verified in SES for Coffer's e-mail (DKIM records are in the outputs).", "", `^[a-z0-9.-]+$`).ValueAsString()
	for _, s := range []struct{ id, env, def string }{
		{"DatabaseUrlParameter", "COFFER_DATABASE_URL", "/coffer/database-url"},
		{"DatabaseReadReplicasParameter", "COFFER_DATABASE_READ_REPLICAS", "/coffer/database-read-replicas"},
		{"RootKeyParameter", "COFFER_ROOT_KEY", "/coffer/root-key"},
		{"AuthSecretParameter", "COFFER_AUTH_SECRET", "/coffer/auth-secret"},
		{"SmtpUsernameParameter", "COFFER_SMTP_USERNAME", "/coffer/smtp-username"},
		{"SmtpPasswordParameter", "COFFER_SMTP_PASSWORD", "/coffer/smtp-password"},
	} {
		p.ssm = append(p.ssm, ssmSecret{env: s.env, param: str(s.id,
			"Name of the SSM SecureString parameter holding "+s.env+".", s.def, ssmNamePattern)})
	}
	kms := awscdk.NewCfnParameter(stack, jsii.String("RootKeyKmsKeyArn"), &awscdk.CfnParameterProps{
		Type:           jsii.String("String"),
		Description:    jsii.String("ARN of the KMS key that wraps the root key in the RootKeyParameter (COFFER_ROOT_KEY_KMS_KEY_ID); empty for a plain root key. Only the task role may decrypt with it."),
		Default:        jsii.String(""),
		AllowedPattern: jsii.String(`^(arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[a-zA-Z0-9-]+)?$`),
	})
	p.rootKeyKMS = kms.ValueAsString()
	p.rootKeyWrapped = awscdk.NewCfnCondition(stack, jsii.String("RootKeyWrapped"), &awscdk.CfnConditionProps{
		Expression: awscdk.Fn_ConditionNot(awscdk.Fn_ConditionEquals(p.rootKeyKMS, jsii.String(""))),
	})
	num := func(id, desc string, def, min float64) *float64 {
		return awscdk.NewCfnParameter(stack, jsii.String(id), &awscdk.CfnParameterProps{
			Type: jsii.String("Number"), Description: jsii.String(desc),
			Default: jsii.Number(def), MinValue: jsii.Number(min), MaxValue: jsii.Number(100),
		}).ValueAsNumber()
	}
	p.minTasks = num("MinTasks", "Fewest running tasks (at least 2, spread over the AZs).", 2, 2)
	p.maxTasks = num("MaxTasks", "Most running tasks auto scaling may reach.", 10, 2)
	start := awscdk.NewCfnParameter(stack, jsii.String("StartService"), &awscdk.CfnParameterProps{
		Type:          jsii.String("String"),
		Description:   jsii.String("false on the very first deploy, before the database user and the SSM parameters exist: the service then runs no task."),
		Default:       jsii.String("true"),
		AllowedValues: jsii.Strings("true", "false"),
	})
	p.startService = awscdk.NewCfnCondition(stack, jsii.String("ServiceStarted"), &awscdk.CfnConditionProps{
		Expression: awscdk.Fn_ConditionEquals(start.ValueAsString(), jsii.String("true")),
	})
	return p
}

// taskCount is MinTasks, or 0 while StartService is false.
func (p *params) taskCount() *float64 {
	return awscdk.Token_AsNumber(awscdk.Fn_ConditionIf(p.startService.LogicalId(), p.minTasks, 0))
}
