// Package rootcreds reads Coffer's root credentials from AWS: the values of ssm: and
// secretsmanager: references in secret settings (config.Resolver), and root keys wrapped by AWS
// KMS. It uses the AWS SDK's standard configuration: credentials from the environment, the
// shared config files or the ECS task role, the region from AWS_REGION, and per-service
// endpoints from AWS_ENDPOINT_URL_SSM, AWS_ENDPOINT_URL_SECRETS_MANAGER and AWS_ENDPOINT_URL_KMS.
//
// The SDK's configuration is loaded on first use only: a server that uses neither references
// nor KMS makes no AWS call and looks up no credentials.
//
// rootcreds never logs a value it reads and never puts one in an error. An unwrapped root key
// goes to its caller, who hands it to the keyring and clears it.
package rootcreds

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/smithy-go"
)

// AWS reads root credentials from AWS. The zero value is ready to use; it loads the SDK's
// configuration on first use and keeps it.
type AWS struct {
	once sync.Once
	cfg  aws.Config
	err  error
}

// config returns the SDK configuration, loading it once.
func (a *AWS) config(ctx context.Context) (aws.Config, error) {
	a.once.Do(func() {
		a.cfg, a.err = awsconfig.LoadDefaultConfig(ctx)
		if a.err != nil {
			a.err = fmt.Errorf("load the AWS configuration: %w", a.err)
		}
	})
	return a.cfg, a.err
}

// region returns the region to call for a resource named by name (an ARN or not): the
// configured one, else the ARN's.
func region(cfg aws.Config, name string) (string, error) {
	if cfg.Region != "" {
		return cfg.Region, nil
	}
	if parts := strings.SplitN(name, ":", 6); len(parts) == 6 && parts[0] == "arn" && parts[3] != "" {
		return parts[3], nil
	}
	return "", errors.New("no AWS region: set AWS_REGION (ECS sets it for a task)")
}

// apiError is an AWS error told plainly: the error code, AWS's message and what it usually
// means for Coffer. It unwraps to the SDK's error.
type apiError struct {
	code, msg, hint string
	err             error
}

func (e *apiError) Error() string {
	s := e.code
	if e.msg != "" {
		s += ": " + e.msg
	}
	if e.hint != "" {
		s += " (" + e.hint + ")"
	}
	return s
}

func (e *apiError) Unwrap() error { return e.err }

// hints say what an AWS error code means here.
var hints = map[string]string{
	"ParameterNotFound":           "no such parameter",
	"ResourceNotFoundException":   "no such secret",
	"NotFoundException":           "no such KMS key",
	"InvalidCiphertextException":  "the blob was not wrapped by this KMS key with Coffer's encryption context",
	"IncorrectKeyException":       "the blob was wrapped by another KMS key",
	"AccessDeniedException":       "the AWS credentials may not do this",
	"DisabledException":           "the KMS key is disabled",
	"KMSInvalidStateException":    "the KMS key is pending deletion or not usable",
	"UnrecognizedClientException": "the AWS credentials are not valid",
}

// describe returns err with an AWS API error told plainly; other errors (network, credentials)
// as they are.
func describe(op string, err error) error {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return fmt.Errorf("%s: %w", op, &apiError{code: ae.ErrorCode(), msg: ae.ErrorMessage(), hint: hints[ae.ErrorCode()], err: err})
	}
	return fmt.Errorf("%s: %w", op, err)
}
