package mail

import (
	"bytes"
	"embed"
	"fmt"
	htmltemplate "html/template"
	"strings"
	texttemplate "text/template"
)

//go:embed templates/*.tmpl
var templateFS embed.FS

// Templates are the e-mails Coffer sends, parsed once from the embedded files. Each name has
// NAME.subject.tmpl, NAME.txt.tmpl and NAME.html.tmpl; data is a map of strings.
type Templates struct {
	subject *texttemplate.Template
	text    *texttemplate.Template
	html    *htmltemplate.Template
}

// Template names.
const (
	TemplateInvitation    = "invitation"
	TemplatePasswordReset = "password-reset"
	TemplateNewDevice     = "new-device"
)

var templateNames = []string{TemplateInvitation, TemplatePasswordReset, TemplateNewDevice}

// ParseTemplates parses every embedded template; an error is a bug in a template.
func ParseTemplates() (*Templates, error) {
	t := &Templates{}
	var err error
	opt := "missingkey=error"
	if t.subject, err = texttemplate.New("").Option(opt).ParseFS(templateFS, "templates/*.subject.tmpl"); err != nil {
		return nil, err
	}
	if t.text, err = texttemplate.New("").Option(opt).ParseFS(templateFS, "templates/*.txt.tmpl"); err != nil {
		return nil, err
	}
	if t.html, err = htmltemplate.New("").Option(opt).ParseFS(templateFS, "templates/*.html.tmpl"); err != nil {
		return nil, err
	}
	for _, name := range templateNames {
		if t.subject.Lookup(name+".subject.tmpl") == nil || t.text.Lookup(name+".txt.tmpl") == nil || t.html.Lookup(name+".html.tmpl") == nil {
			return nil, fmt.Errorf("mail: template %s is incomplete", name)
		}
	}
	return t, nil
}

// Has reports whether name is a template.
func (t *Templates) Has(name string) bool { return t.text.Lookup(name+".txt.tmpl") != nil }

// Render renders the template name with data into a message to to.
func (t *Templates) Render(name, to string, data map[string]string) (Message, error) {
	if !t.Has(name) {
		return Message{}, fmt.Errorf("mail: no template %q", name)
	}
	var subj, text, html bytes.Buffer
	if err := t.subject.ExecuteTemplate(&subj, name+".subject.tmpl", data); err != nil {
		return Message{}, fmt.Errorf("mail: render %s subject: %w", name, err)
	}
	if err := t.text.ExecuteTemplate(&text, name+".txt.tmpl", data); err != nil {
		return Message{}, fmt.Errorf("mail: render %s text: %w", name, err)
	}
	if err := t.html.ExecuteTemplate(&html, name+".html.tmpl", data); err != nil {
		return Message{}, fmt.Errorf("mail: render %s html: %w", name, err)
	}
	return Message{To: to, Subject: strings.TrimSpace(subj.String()), Text: text.String(), HTML: html.String()}, nil
}
