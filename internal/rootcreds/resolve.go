package rootcreds

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/cofferhq/coffer/internal/config"
)

// Resolve returns the value of an ssm: reference (the parameter, decrypted: a SecureString's
// plaintext) or a secretsmanager: reference (the secret's SecretString, or with #key the string
// value of that key of the JSON object it holds). It implements config.Resolver; its errors
// never quote the value.
func (a *AWS) Resolve(ctx context.Context, ref config.Reference) (string, error) {
	cfg, err := a.config(ctx)
	if err != nil {
		return "", err
	}
	reg, err := region(cfg, ref.Name)
	if err != nil {
		return "", err
	}
	switch ref.Kind {
	case config.RefSSM:
		return getParameter(ctx, ssm.NewFromConfig(cfg, func(o *ssm.Options) { o.Region = reg }), ref.Name)
	case config.RefSecretsManager:
		return getSecret(ctx, secretsmanager.NewFromConfig(cfg, func(o *secretsmanager.Options) { o.Region = reg }), ref.Name, ref.Key)
	}
	return "", fmt.Errorf("rootcreds: cannot resolve %s: references", ref.Kind)
}

func getParameter(ctx context.Context, c *ssm.Client, name string) (string, error) {
	out, err := c.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String(name), WithDecryption: aws.Bool(true)})
	if err != nil {
		return "", describe("ssm:GetParameter", err)
	}
	if out.Parameter == nil || out.Parameter.Value == nil {
		return "", errors.New("ssm:GetParameter returned no value")
	}
	return *out.Parameter.Value, nil
}

func getSecret(ctx context.Context, c *secretsmanager.Client, id, key string) (string, error) {
	out, err := c.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(id)})
	if err != nil {
		return "", describe("secretsmanager:GetSecretValue", err)
	}
	if out.SecretString == nil {
		return "", errors.New("the secret has no SecretString (binary secrets are not supported)")
	}
	if key == "" {
		return *out.SecretString, nil
	}
	// Never wrap a json error: its message may quote part of the secret.
	var obj map[string]json.RawMessage
	if err := json.Unmarshal([]byte(*out.SecretString), &obj); err != nil || obj == nil {
		return "", fmt.Errorf("the secret is not a JSON object, so it has no key %q", key)
	}
	raw, ok := obj[key]
	if !ok {
		return "", fmt.Errorf("the secret's JSON object has no key %q", key)
	}
	var v string
	if err := json.Unmarshal(raw, &v); err != nil {
		return "", fmt.Errorf("the value of key %q in the secret is not a JSON string", key)
	}
	return v, nil
}
