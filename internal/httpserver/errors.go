// Package httpserver provides the HTTP plumbing every Coffer surface shares: the mapping of domain
// errors to statuses and the Infisical error body, JSON encoding and decoding, query helpers, the
// middleware stack (panic recovery, request id, access log, client IP, authentication) and the
// server lifecycle. It knows nothing about secrets, and it never writes a token, a request body
// or a query string to a log or an error message.
package httpserver

import (
	"errors"
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/cofferhq/coffer"
)

// internalMessage is the only message a client ever sees for a 500.
const internalMessage = "Something went wrong"

// StatusOf maps a domain error code to an HTTP status: EINVALID and ECONFLICT 400, EVALIDATION
// 422, ENOTFOUND 404, EUNAUTHORIZED 401, EFORBIDDEN 403, ERATELIMIT 429, ETOOLARGE 413,
// EUNAVAILABLE 503, and 500 for EINTERNAL or any other code.
func StatusOf(code string) int {
	switch code {
	case coffer.EINVALID, coffer.ECONFLICT:
		return http.StatusBadRequest
	case coffer.EVALIDATION:
		return http.StatusUnprocessableEntity
	case coffer.ENOTFOUND:
		return http.StatusNotFound
	case coffer.EUNAUTHORIZED:
		return http.StatusUnauthorized
	case coffer.EFORBIDDEN:
		return http.StatusForbidden
	case coffer.ERATELIMIT:
		return http.StatusTooManyRequests
	case coffer.ETOOLARGE:
		return http.StatusRequestEntityTooLarge
	case coffer.EUNAVAILABLE:
		return http.StatusServiceUnavailable
	default:
		return http.StatusInternalServerError
	}
}

// errorName is the Infisical name of an error status.
func errorName(status int) string {
	switch status {
	case http.StatusBadRequest:
		return "BadRequest"
	case http.StatusUnauthorized:
		return "UnauthorizedError"
	case http.StatusForbidden:
		return "PermissionDenied"
	case http.StatusNotFound:
		return "NotFound"
	case http.StatusRequestEntityTooLarge:
		return "PayloadTooLarge"
	case http.StatusUnprocessableEntity:
		return "ValidationFailure"
	case http.StatusTooManyRequests:
		return "RateLimitError"
	case http.StatusServiceUnavailable:
		return "ServiceUnavailable"
	default:
		return "InternalServerError"
	}
}

// RetryAfterError is implemented by errors that tell the client when to retry; WriteError sets
// the Retry-After header from it on a 429.
type RetryAfterError interface {
	RetryAfter() time.Duration
}

// errorBody is the Infisical error body.
type errorBody struct {
	ReqID      string `json:"reqId"`
	StatusCode int    `json:"statusCode"`
	Message    string `json:"message"`
	Error      string `json:"error"`
}

// WriteError writes err as the Infisical error body {"reqId","statusCode","message","error"}
// with the status StatusOf its code. For a 500 the message is always "Something went wrong" and
// err is logged to log (slog.Default() when nil) at level error with the request id, method and
// path; it is never sent. For a 503 (EUNAVAILABLE) err is logged at level warn and Retry-After
// is 1. For a 429 it sets Retry-After when err carries a RetryAfterError. A nil
// err writes nothing.
func WriteError(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
	if err == nil {
		return
	}
	status := StatusOf(coffer.ErrorCode(err))
	msg := coffer.ErrorMessage(err)
	if status == http.StatusInternalServerError {
		msg = internalMessage
		if log == nil {
			log = slog.Default()
		}
		log.ErrorContext(r.Context(), "request failed", "req_id", requestIDOf(w, r),
			"method", r.Method, "path", r.URL.Path, "err", err.Error())
	}
	if status == http.StatusServiceUnavailable {
		// A dependency is down: the detail is for operators, and the client may retry soon.
		if log == nil {
			log = slog.Default()
		}
		log.WarnContext(r.Context(), "request failed: dependency unavailable", "req_id", requestIDOf(w, r),
			"method", r.Method, "path", r.URL.Path, "err", err.Error())
		w.Header().Set("Retry-After", "1")
	}
	if status == http.StatusTooManyRequests {
		var ra RetryAfterError
		if errors.As(err, &ra) {
			secs := max(int64(math.Ceil(ra.RetryAfter().Seconds())), 1)
			w.Header().Set("Retry-After", strconv.FormatInt(secs, 10))
		}
	}
	writeErrorBody(w, r, status, msg)
}

// writeErrorBody writes the error body without logging anything.
func writeErrorBody(w http.ResponseWriter, r *http.Request, status int, msg string) {
	WriteJSON(w, r, status, errorBody{
		ReqID:      requestIDOf(w, r),
		StatusCode: status,
		Message:    msg,
		Error:      errorName(status),
	})
}

// requestIDOf returns the request id from the context or, outside the middleware, from the
// response header; when there is none it generates one and sets the header, so that the reqId
// of an error body always equals the X-Request-Id response header.
func requestIDOf(w http.ResponseWriter, r *http.Request) string {
	if id := RequestID(r.Context()); id != "" {
		return id
	}
	if id := w.Header().Get(requestIDHeader); id != "" {
		return id
	}
	id := newRequestID()
	w.Header().Set(requestIDHeader, id)
	return id
}

// HandlerFunc is a handler that returns an error, rendered by WriteError.
type HandlerFunc func(w http.ResponseWriter, r *http.Request) error

// Adapter turns HandlerFuncs into http.Handlers with a logger for the errors.
type Adapter struct {
	Log *slog.Logger
}

// H returns f as an http.Handler that renders a returned error with WriteError. When f has
// already written its response before failing, the error is only logged.
func (a Adapter) H(f HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		err := f(w, r)
		if err == nil {
			return
		}
		if rec, ok := w.(*recorder); ok && rec.status != 0 {
			log := a.Log
			if log == nil {
				log = slog.Default()
			}
			log.ErrorContext(r.Context(), "handler failed after writing its response",
				"req_id", requestIDOf(w, r), "method", r.Method, "path", r.URL.Path, "err", err.Error())
			return
		}
		WriteError(w, r, a.Log, err)
	})
}
