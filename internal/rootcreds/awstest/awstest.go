// Package awstest is a test double of the two AWS APIs Coffer reads root credentials from: SSM
// Parameter Store's GetParameter and Secrets Manager's GetSecretValue, spoken in their AWS JSON
// 1.1 protocol over HTTP. Start points the AWS SDK at it through the environment (static test
// credentials, AWS_ENDPOINT_URL_SSM, AWS_ENDPOINT_URL_SECRETS_MANAGER), so the code under test
// runs unchanged. It records every request for the test to check.
package awstest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
)

// Region is the region Start configures.
const Region = "eu-west-1"

// Server is the double. Its methods are safe for concurrent use.
type Server struct {
	URL string

	mu         sync.Mutex
	parameters map[string]parameter
	secrets    map[string]secret
	requests   []Request
}

type parameter struct {
	value  string
	secure bool
}

type secret struct {
	str    *string
	binary []byte
}

// Request is one call the double received.
type Request struct {
	Target        string         // X-Amz-Target, e.g. AmazonSSM.GetParameter
	ContentType   string         // Content-Type
	Authorization string         // the Authorization header (SigV4)
	Body          map[string]any // the JSON body
}

// Start starts the double and sets the environment of the test so that the AWS SDK uses it
// with static credentials and no shared config files, EC2 metadata or profiles. It stops in
// t.Cleanup. The environment is process-wide: tests using it must not run in parallel.
func Start(t testing.TB) *Server {
	t.Helper()
	s := &Server{parameters: map[string]parameter{}, secrets: map[string]secret{}}
	hs := httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(hs.Close)
	s.URL = hs.URL
	Isolate(t)
	t.Setenv("AWS_ENDPOINT_URL_SSM", s.URL)
	t.Setenv("AWS_ENDPOINT_URL_SECRETS_MANAGER", s.URL)
	return s
}

// Isolate sets the environment of the test for the AWS SDK: static test credentials, region
// Region, no shared config or credentials files, no profile and no EC2 instance metadata.
func Isolate(t testing.TB) {
	t.Helper()
	none := filepath.Join(t.TempDir(), "none")
	for k, v := range map[string]string{
		"AWS_ACCESS_KEY_ID":           "AKIDCOFFERTEST",
		"AWS_SECRET_ACCESS_KEY":       "coffer-test-secret-access-key",
		"AWS_SESSION_TOKEN":           "",
		"AWS_REGION":                  Region,
		"AWS_DEFAULT_REGION":          "",
		"AWS_PROFILE":                 "",
		"AWS_CONFIG_FILE":             none,
		"AWS_SHARED_CREDENTIALS_FILE": none,
		"AWS_EC2_METADATA_DISABLED":   "true",
		"AWS_ENDPOINT_URL":            "",
	} {
		t.Setenv(k, v)
		if v == "" {
			os.Unsetenv(k) // t.Setenv restores it after the test
		}
	}
}

// PutParameter stores an SSM parameter; secure makes it a SecureString, whose value the double
// returns only to a request WithDecryption (otherwise a stand-in ciphertext, as SSM does).
func (s *Server) PutParameter(name, value string, secure bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.parameters[name] = parameter{value: value, secure: secure}
}

// PutSecret stores a Secrets Manager secret with a SecretString.
func (s *Server) PutSecret(id, value string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.secrets[id] = secret{str: &value}
}

// PutBinarySecret stores a Secrets Manager secret with only a SecretBinary.
func (s *Server) PutBinarySecret(id string, value []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.secrets[id] = secret{binary: slices.Clone(value)}
}

// Requests returns the requests received so far.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.requests)
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	data, _ := io.ReadAll(r.Body)
	var body map[string]any
	if err := json.Unmarshal(data, &body); err != nil || r.Method != http.MethodPost {
		writeError(w, http.StatusBadRequest, "SerializationException", "the body is not a JSON object")
		return
	}
	req := Request{Target: r.Header.Get("X-Amz-Target"), ContentType: r.Header.Get("Content-Type"),
		Authorization: r.Header.Get("Authorization"), Body: body}
	s.mu.Lock()
	s.requests = append(s.requests, req)
	s.mu.Unlock()
	if req.ContentType != "application/x-amz-json-1.1" {
		writeError(w, http.StatusBadRequest, "SerializationException", "Content-Type is not application/x-amz-json-1.1")
		return
	}
	switch req.Target {
	case "AmazonSSM.GetParameter":
		s.getParameter(w, body)
	case "secretsmanager.GetSecretValue":
		s.getSecretValue(w, body)
	default:
		writeError(w, http.StatusBadRequest, "UnknownOperationException", "the double does not implement "+req.Target)
	}
}

func (s *Server) getParameter(w http.ResponseWriter, body map[string]any) {
	name, _ := body["Name"].(string)
	decrypt, _ := body["WithDecryption"].(bool)
	s.mu.Lock()
	p, ok := s.parameters[name]
	s.mu.Unlock()
	if !ok {
		writeError(w, http.StatusBadRequest, "ParameterNotFound", "")
		return
	}
	typ, value := "String", p.value
	if p.secure {
		typ = "SecureString"
		if !decrypt {
			value = "AQICAHh-encrypted-stand-in"
		}
	}
	writeJSON(w, map[string]any{"Parameter": map[string]any{
		"Name": name, "Type": typ, "Value": value, "Version": 1, "DataType": "text",
		"ARN": fmt.Sprintf("arn:aws:ssm:%s:111122223333:parameter%s", Region, name),
	}})
}

func (s *Server) getSecretValue(w http.ResponseWriter, body map[string]any) {
	id, _ := body["SecretId"].(string)
	s.mu.Lock()
	sec, ok := s.secrets[id]
	s.mu.Unlock()
	if !ok {
		writeError(w, http.StatusBadRequest, "ResourceNotFoundException", "Secrets Manager can't find the specified secret.")
		return
	}
	out := map[string]any{"ARN": fmt.Sprintf("arn:aws:secretsmanager:%s:111122223333:secret:%s-AbCdEf", Region, id),
		"Name": id, "VersionId": "00000000-0000-0000-0000-000000000001", "VersionStages": []string{"AWSCURRENT"}, "CreatedDate": 946684800}
	if sec.str != nil {
		out["SecretString"] = *sec.str
	} else {
		out["SecretBinary"] = sec.binary // encoding/json writes base64, as the protocol wants
	}
	writeJSON(w, out)
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]string{"__type": code, "message": msg})
}
