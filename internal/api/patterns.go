package api

import "net/http"

// patternRecorder is a Mux that keeps the patterns registered on it.
type patternRecorder []string

func (p *patternRecorder) Handle(pattern string, _ http.Handler) { *p = append(*p, pattern) }

// Patterns returns the pattern ("METHOD /path/{wildcard}") of every route Routes registers, in
// order, so that tests can require each route to be classified (the role matrix).
func Patterns() []string {
	var p patternRecorder
	(&API{}).Routes(&p)
	return p
}
