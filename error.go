// Package coffer is the domain of the Coffer secrets manager: its types, their validation, the
// error codes every layer speaks, and the request actor. It imports only the standard library and
// never holds key material or touches storage.
package coffer

import (
	"errors"
	"fmt"
)

// Error codes. Every error a service returns carries one of these, so that one function (in
// internal/httpserver) maps it to an HTTP status and the Infisical error body.
const (
	EINVALID      = "invalid"      // a request that can never succeed as sent (400)
	EVALIDATION   = "validation"   // a field of the request failed validation (422)
	ENOTFOUND     = "not_found"    // 404
	ECONFLICT     = "conflict"     // the resource exists, or a concurrent change won (400 on the wire, like Infisical)
	EUNAUTHORIZED = "unauthorized" // missing, invalid, expired or revoked credentials (401)
	EFORBIDDEN    = "forbidden"    // authenticated, but not allowed (403)
	ERATELIMIT    = "rate_limit"   // 429
	ETOOLARGE     = "too_large"    // request body or value over its limit (413)
	EINTERNAL     = "internal"     // anything else (500, "Something went wrong")
	EUNAVAILABLE  = "unavailable"  // a dependency (the database) is down or timed out; retry later (503)
)

// Error is a domain error: a code for machines and a message safe to show to the caller. It
// never carries a secret value, a token or key material.
type Error struct {
	Code    string
	Message string
}

// Error implements the error interface.
func (e *Error) Error() string {
	return fmt.Sprintf("coffer error: code=%s message=%s", e.Code, e.Message)
}

// Errorf returns an *Error with the given code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of the first *Error in err's chain, EINTERNAL for any other
// non-nil error, and "" for nil.
func ErrorCode(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the message of the first *Error in err's chain, or a generic message
// for any other error (whose details belong in the server log only).
func ErrorMessage(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		return e.Message
	}
	return "Something went wrong"
}
