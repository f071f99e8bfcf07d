package envfile

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// parseDotenv reads a .env or shell-export file. One grammar serves both formats:
//
//   - CRLF becomes LF first; blank lines and lines whose first non-blank character is # are
//     skipped.
//   - A statement is [export ]KEY=VALUE, with optional blanks around '='.
//   - An unquoted VALUE runs to the end of the line; a # preceded by a blank starts a comment;
//     trailing blanks are dropped. Nothing is expanded or unescaped.
//   - 'single quotes' are literal and may span lines.
//   - "double quotes" may span lines and decode \n \r \t \\ \" \' \$ \`; any other backslash
//     is kept as it is.
//   - $'ANSI-C quotes' decode bash's escapes.
//   - As in a shell, quoted pieces and backslash-escaped characters may be glued together
//     (the shell idiom A below reads it's). After the value only blanks and a # comment may
//     follow.
//
// No variable is ever expanded: ${REF} stays ${REF}.
//
//	A='it'\''s'
//	B="quoted"'single'\!bare
func parseDotenv(src string, f Format) ([]Entry, error) {
	src = strings.ReplaceAll(src, "\r\n", "\n")
	p := &dotenvParser{src: src, format: f}
	if i := strings.IndexByte(src, 0); i >= 0 {
		return nil, p.errAt(i, "NUL byte")
	}
	var entries []Entry
	for {
		p.skipBlanks()
		if p.pos >= len(src) {
			return entries, nil
		}
		switch src[p.pos] {
		case '\n':
			p.pos++
			continue
		case '#':
			p.skipLine()
			continue
		}
		e, err := p.statement()
		if err != nil {
			return nil, err
		}
		entries = append(entries, e)
	}
}

type dotenvParser struct {
	src    string
	pos    int
	format Format
}

func (p *dotenvParser) errAt(off int, reason string) *Error {
	return errorAt(p.format, p.src, off, reason)
}

func isBlank(c byte) bool { return c == ' ' || c == '\t' }

func (p *dotenvParser) skipBlanks() {
	for p.pos < len(p.src) && isBlank(p.src[p.pos]) {
		p.pos++
	}
}

func (p *dotenvParser) skipLine() {
	if i := strings.IndexByte(p.src[p.pos:], '\n'); i >= 0 {
		p.pos += i
	} else {
		p.pos = len(p.src)
	}
}

// statement reads one [export ]KEY=VALUE statement and what follows it on its last line.
func (p *dotenvParser) statement() (Entry, error) {
	src := p.src
	if strings.HasPrefix(src[p.pos:], "export") && p.pos+6 < len(src) && isBlank(src[p.pos+6]) {
		p.pos += 6
		p.skipBlanks()
	}
	start := p.pos
	for p.pos < len(src) && isKeyByte(src[p.pos]) {
		p.pos++
	}
	key := src[start:p.pos]
	if key == "" {
		return Entry{}, p.errAt(p.pos, "expected a key")
	}
	if p.pos < len(src) && !isBlank(src[p.pos]) && src[p.pos] != '=' && src[p.pos] != '\n' {
		return Entry{}, p.errAt(p.pos, errInvalidKeyReason)
	}
	p.skipBlanks()
	if p.pos >= len(src) || src[p.pos] != '=' {
		return Entry{}, p.errAt(p.pos, "expected '=' after the key")
	}
	p.pos++
	blankBefore := p.pos < len(src) && isBlank(src[p.pos])
	p.skipBlanks()
	value, err := p.value(blankBefore)
	if err != nil {
		return Entry{}, err
	}
	return Entry{Key: key, Value: value}, nil
}

// value reads the value and checks that only blanks and a comment follow it.
func (p *dotenvParser) value(blankBefore bool) (string, error) {
	src := p.src
	if p.pos >= len(src) || src[p.pos] == '\n' {
		return "", nil
	}
	c := src[p.pos]
	if c == '#' && blankBefore {
		p.skipLine()
		return "", nil
	}
	if c != '\'' && c != '"' && !strings.HasPrefix(src[p.pos:], "$'") {
		return p.unquoted(), nil
	}
	start := p.pos
	v, err := p.word()
	if err != nil {
		return "", err
	}
	p.skipBlanks()
	if p.pos < len(src) && src[p.pos] != '\n' {
		if src[p.pos] != '#' {
			return "", p.errAt(p.pos, "unexpected text after the quoted value")
		}
		p.skipLine()
	}
	if !utf8.ValidString(v) {
		return "", p.errAt(start, "value is not valid UTF-8 once unescaped")
	}
	if strings.IndexByte(v, 0) >= 0 {
		return "", p.errAt(start, "value holds a NUL byte once unescaped")
	}
	return v, nil
}

// unquoted reads an unquoted value to the end of its line, dropping a " #" comment.
func (p *dotenvParser) unquoted() string {
	start := p.pos
	p.skipLine()
	raw := p.src[start:p.pos]
	for i := 1; i < len(raw); i++ {
		if raw[i] == '#' && isBlank(raw[i-1]) {
			raw = raw[:i]
			break
		}
	}
	return strings.TrimRight(raw, " \t")
}

// word reads a shell-like word: quoted pieces, backslash escapes and bare characters glued
// together, ending at a blank, the end of the line, or a # right after a closing quote (which
// dotenv loaders take for a comment).
func (p *dotenvParser) word() (string, error) {
	src := p.src
	var b strings.Builder
	for p.pos < len(src) {
		c := src[p.pos]
		afterQuote := p.pos > 0 && (src[p.pos-1] == '\'' || src[p.pos-1] == '"')
		switch {
		case isBlank(c) || c == '\n' || c == '#' && afterQuote:
			return b.String(), nil
		case c == '\'':
			if err := p.singleQuoted(&b); err != nil {
				return "", err
			}
		case c == '"':
			if err := p.doubleQuoted(&b); err != nil {
				return "", err
			}
		case c == '$' && strings.HasPrefix(src[p.pos:], "$'"):
			if err := p.ansiQuoted(&b); err != nil {
				return "", err
			}
		case c == '\\' && p.pos+1 < len(src) && src[p.pos+1] != '\n':
			_, size := utf8.DecodeRuneInString(src[p.pos+1:])
			b.WriteString(src[p.pos+1 : p.pos+1+size])
			p.pos += 1 + size
		default:
			b.WriteByte(c)
			p.pos++
		}
	}
	return b.String(), nil
}

func (p *dotenvParser) singleQuoted(b *strings.Builder) error {
	open := p.pos
	end := strings.IndexByte(p.src[open+1:], '\'')
	if end < 0 {
		return p.errAt(open, "unterminated single-quoted value")
	}
	b.WriteString(p.src[open+1 : open+1+end])
	p.pos = open + 1 + end + 1
	return nil
}

func (p *dotenvParser) doubleQuoted(b *strings.Builder) error {
	src := p.src
	open := p.pos
	for i := open + 1; i < len(src); i++ {
		switch c := src[i]; c {
		case '"':
			p.pos = i + 1
			return nil
		case '\\':
			if i+1 >= len(src) {
				continue
			}
			switch n := src[i+1]; n {
			case 'n':
				b.WriteByte('\n')
			case 'r':
				b.WriteByte('\r')
			case 't':
				b.WriteByte('\t')
			case '\\', '"', '\'', '$', '`':
				b.WriteByte(n)
			default:
				b.WriteByte('\\')
				continue
			}
			i++
		default:
			b.WriteByte(c)
		}
	}
	return p.errAt(open, "unterminated double-quoted value")
}

// ansiQuoted decodes bash's $'…' quoting.
func (p *dotenvParser) ansiQuoted(b *strings.Builder) error {
	src := p.src
	open := p.pos
	for i := open + 2; i < len(src); i++ {
		c := src[i]
		if c == '\'' {
			p.pos = i + 1
			return nil
		}
		if c != '\\' || i+1 >= len(src) {
			b.WriteByte(c)
			continue
		}
		i++
		if simple, ok := ansiSimple[src[i]]; ok {
			b.WriteByte(simple)
			continue
		}
		switch n := src[i]; {
		case n >= '0' && n <= '7':
			digits := digitRun(src[i:], 3, 8)
			v, _ := strconv.ParseUint(digits, 8, 16)
			b.WriteByte(byte(v))
			i += len(digits) - 1
		case n == 'x' || n == 'u' || n == 'U':
			limit := 2
			if n == 'u' {
				limit = 4
			} else if n == 'U' {
				limit = 8
			}
			digits := digitRun(src[i+1:], limit, 16)
			if digits == "" {
				b.WriteByte('\\')
				b.WriteByte(n)
				continue
			}
			v, _ := strconv.ParseUint(digits, 16, 32)
			i += len(digits)
			if n == 'x' {
				b.WriteByte(byte(v))
			} else if r := rune(v); utf8.ValidRune(r) {
				b.WriteRune(r)
			} else {
				return p.errAt(open, "invalid \\u escape in $'' value")
			}
		default:
			b.WriteByte('\\')
			b.WriteByte(n)
		}
	}
	return p.errAt(open, "unterminated $'' value")
}

// ansiSimple maps the one-letter escapes of bash's $'…' to their bytes.
var ansiSimple = map[byte]byte{
	'a': '\a', 'b': '\b', 'e': 0x1b, 'E': 0x1b, 'f': '\f', 'n': '\n', 'r': '\r', 't': '\t',
	'v': '\v', '\\': '\\', '\'': '\'', '"': '"', '?': '?',
}

// digitRun returns the longest prefix of s, at most limit long, of digits in base (8 or 16).
func digitRun(s string, limit, base int) string {
	n := 0
	for n < len(s) && n < limit {
		c := s[n]
		ok := c >= '0' && c <= '7'
		if base == 16 {
			ok = c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
		}
		if !ok {
			break
		}
		n++
	}
	return s[:n]
}
