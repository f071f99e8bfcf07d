package coffer

import (
	"strings"
	"unicode/utf8"
)

// ValidateSecretKey checks a secret name: 1 to MaxSecretKeyLen characters among letters,
// digits, '_', '-' and '.', so that it can be an environment variable or a file name.
func ValidateSecretKey(field, key string) error {
	switch {
	case key == "":
		return Errorf(EVALIDATION, "%s: secret name must not be empty", field)
	case len(key) > MaxSecretKeyLen:
		return Errorf(EVALIDATION, "%s: secret name must be at most %d characters", field, MaxSecretKeyLen)
	}
	for i := 0; i < len(key); i++ {
		if !isNameByte(key[i]) && key[i] != '.' {
			return Errorf(EVALIDATION, "%s: secret name %q may contain only letters, digits, '_', '-' and '.'", field, printable(key))
		}
	}
	return nil
}

// ValidateFolderName checks a folder name: letters, digits, '-' and '_'.
func ValidateFolderName(field, name string) error {
	switch {
	case name == "":
		return Errorf(EVALIDATION, "%s: folder name must not be empty", field)
	case len(name) > MaxFolderNameLen:
		return Errorf(EVALIDATION, "%s: folder name must be at most %d characters", field, MaxFolderNameLen)
	}
	for i := 0; i < len(name); i++ {
		if !isNameByte(name[i]) {
			return Errorf(EVALIDATION, "%s: folder name %q may contain only letters, digits, '-' and '_'", field, printable(name))
		}
	}
	return nil
}

// CleanPath validates a secret path and returns it in canonical form: "/" or "/a/b", without a
// trailing slash. An empty path is "/".
func CleanPath(field, p string) (string, error) {
	p = strings.TrimSpace(p)
	if p == "" || p == "/" {
		return "/", nil
	}
	if p[0] != '/' {
		p = "/" + p
	}
	p = strings.TrimRight(p, "/")
	segs := strings.Split(p[1:], "/")
	if len(segs) > MaxPathDepth {
		return "", Errorf(EVALIDATION, "%s: path is deeper than %d folders", field, MaxPathDepth)
	}
	for _, s := range segs {
		if err := ValidateFolderName(field, s); err != nil {
			return "", Errorf(EVALIDATION, "%s: invalid path %q: each folder name may contain only letters, digits, '-' and '_'", field, printable(p))
		}
	}
	return p, nil
}

// JoinPath returns the path of a child folder.
func JoinPath(parent, name string) string {
	if parent == "/" {
		return "/" + name
	}
	return parent + "/" + name
}

// SplitPath returns the parent path and the last folder name of a non-root path.
func SplitPath(p string) (parent, name string) {
	i := strings.LastIndexByte(p, '/')
	if i <= 0 {
		return "/", p[i+1:]
	}
	return p[:i], p[i+1:]
}

// ValidateSlug checks a slug: 1 to MaxSlugLen of lowercase letters, digits, '-' and '_'.
func ValidateSlug(field, s string) error {
	if s == "" || len(s) > MaxSlugLen {
		return Errorf(EVALIDATION, "%s: must be 1 to %d characters", field, MaxSlugLen)
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return Errorf(EVALIDATION, "%s: %q may contain only lowercase letters, digits, '-' and '_'", field, printable(s))
		}
	}
	return nil
}

// ValidateName checks a display name: 1 to MaxNameLen characters of valid UTF-8 without
// control characters.
func ValidateName(field, s string) error {
	if strings.TrimSpace(s) == "" {
		return Errorf(EVALIDATION, "%s: must not be empty", field)
	}
	if utf8.RuneCountInString(s) > MaxNameLen || !utf8.ValidString(s) {
		return Errorf(EVALIDATION, "%s: must be valid text of at most %d characters", field, MaxNameLen)
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			return Errorf(EVALIDATION, "%s: must not contain control characters", field)
		}
	}
	return nil
}

// Slugify turns a display name into a slug candidate: lowercase, runs of other characters
// collapsed to '-'. It may return "" for a name without letters or digits.
func Slugify(name string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(name) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
			dash = false
		} else if !dash && b.Len() > 0 {
			b.WriteByte('-')
			dash = true
		}
	}
	s := strings.TrimRight(b.String(), "-")
	if len(s) > MaxSlugLen-9 {
		s = strings.TrimRight(s[:MaxSlugLen-9], "-")
	}
	return s
}

func isNameByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-'
}

// printable shortens user input quoted back in an error message.
func printable(s string) string {
	const max = 64
	if len(s) > max {
		s = s[:max] + "…"
	}
	return strings.ToValidUTF8(s, "�")
}
