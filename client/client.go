// Package client is the Go client for Coffer's API: the coffer CLI, end-to-end tests and
// other Go programs reach the server only through it. It speaks the same Infisical-compatible
// routes as any other client and keeps no state beyond its base URL and token.
package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Client calls one Coffer server. Safe for concurrent use once configured.
type Client struct {
	baseURL   string
	token     string
	http      *http.Client
	userAgent string
}

// Option configures a Client.
type Option func(*Client)

// WithToken sets the bearer token sent with every request.
func WithToken(token string) Option { return func(c *Client) { c.token = token } }

// WithHTTPClient replaces the default http.Client (30 s timeout).
func WithHTTPClient(h *http.Client) Option { return func(c *Client) { c.http = h } }

// WithUserAgent sets the User-Agent header.
func WithUserAgent(ua string) Option { return func(c *Client) { c.userAgent = ua } }

// New returns a client for the server at baseURL (e.g. http://127.0.0.1:8080). A trailing
// "/api" is accepted and removed, as Infisical's clients take either form.
func New(baseURL string, opts ...Option) *Client {
	base := strings.TrimSuffix(strings.TrimRight(baseURL, "/"), "/api")
	c := &Client{baseURL: base, http: &http.Client{Timeout: 30 * time.Second}, userAgent: "coffer-client"}
	for _, o := range opts {
		o(c)
	}
	return c
}

// BaseURL returns the server's base URL.
func (c *Client) BaseURL() string { return c.baseURL }

// Error is an error answer of the server, in the Infisical error body.
type Error struct {
	StatusCode int    `json:"statusCode"`
	ReqID      string `json:"reqId"`
	Message    string `json:"message"`
	Name       string `json:"error"`
}

// Error formats like Infisical's CLI does, so that scripts parsing it keep working.
func (e *Error) Error() string {
	return fmt.Sprintf("[status-code=%d] [reqId=%s] [message=%q]", e.StatusCode, e.ReqID, e.Message)
}

// StatusCode returns the HTTP status of an *Error in err's chain, or 0.
func StatusCode(err error) int {
	var e *Error
	if errors.As(err, &e) {
		return e.StatusCode
	}
	return 0
}

// Do sends a request with an optional JSON body and decodes a JSON answer into out (when not
// nil). Answers other than 2xx become *Error.
func (c *Client) Do(ctx context.Context, method, path string, query url.Values, body, out any) error {
	_, err := c.do(ctx, method, path, query, body, out, nil)
	return err
}

// ErrNotModified is returned by conditional reads when the server's ETag still matches.
var ErrNotModified = errors.New("not modified")

// do is Do with extra request headers; it returns the response headers. A 304 answer is
// ErrNotModified.
func (c *Client) do(ctx context.Context, method, path string, query url.Values, body, out any, header http.Header) (http.Header, error) {
	u := c.baseURL + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, fmt.Errorf("encode request: %w", err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return nil, err
	}
	for k, v := range header {
		req.Header[k] = v
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", c.userAgent)
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return nil, fmt.Errorf("read response: %w", err)
	}
	if resp.StatusCode == http.StatusNotModified {
		return resp.Header, ErrNotModified
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		e := &Error{StatusCode: resp.StatusCode}
		if json.Unmarshal(data, e) != nil || e.Message == "" {
			e.Message = http.StatusText(resp.StatusCode)
		}
		e.StatusCode = resp.StatusCode
		return resp.Header, e
	}
	if out == nil {
		return resp.Header, nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return resp.Header, fmt.Errorf("decode response of %s %s: %w", method, path, err)
	}
	return resp.Header, nil
}
