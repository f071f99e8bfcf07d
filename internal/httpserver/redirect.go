package httpserver

import (
	"net"
	"net/http"
	"strings"
)

// healthPaths are served on the HTTP redirect listener instead of redirected, so that a load
// balancer's health checks over plain HTTP keep working.
var healthPaths = map[string]bool{"/healthz": true, "/readyz": true, "/api/status": true}

// RedirectToHTTPS returns the handler of the plain-HTTP listener: a 301 to
// https://HOST[:port]/same/path?same=query, where HOST is the request's host without its port
// and port is httpsPort, left out when empty or "443". The health paths are passed to health
// (the node's full handler) and served as they are.
func RedirectToHTTPS(health http.Handler, httpsPort string) http.Handler {
	if httpsPort == "443" {
		httpsPort = ""
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if healthPaths[strings.TrimRight(r.URL.Path, "/")] {
			health.ServeHTTP(w, r)
			return
		}
		host := r.Host
		if h, _, err := net.SplitHostPort(host); err == nil {
			host = h
		}
		host = strings.Trim(host, "[]")
		if !validHost(host) {
			http.Error(w, "Bad Request: missing or invalid Host header", http.StatusBadRequest)
			return
		}
		if strings.Contains(host, ":") { // IPv6 literal
			host = "[" + host + "]"
		}
		if httpsPort != "" {
			host += ":" + httpsPort
		}
		target := "https://" + host + r.URL.EscapedPath()
		if r.URL.RawQuery != "" {
			target += "?" + r.URL.RawQuery
		}
		http.Redirect(w, r, target, http.StatusMovedPermanently)
	})
}

// validHost reports whether h is a plausible host name or IP literal: letters, digits, dots,
// hyphens and (IPv6) colons only, so that the Location header cannot be bent elsewhere.
func validHost(h string) bool {
	if h == "" || len(h) > 253 {
		return false
	}
	for i := 0; i < len(h); i++ {
		c := h[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '-' || c == ':') {
			return false
		}
	}
	return true
}
