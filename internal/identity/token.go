package identity

import (
	"fmt"

	"github.com/golang-jwt/jwt/v5"
)

// signer makes and checks bearer tokens: HS256 JWTs signed with the server's auth secret that
// carry only the id of the token's database record. Everything that can change (expiry,
// revocation, use counts, trusted IPs) lives in that record.
type signer struct{ key []byte }

type claims struct {
	TokenID string `json:"tid"`
	Kind    string `json:"kind"`
	jwt.RegisteredClaims
}

func (s signer) sign(tokenID, kind, subject string) (string, error) {
	t := jwt.NewWithClaims(jwt.SigningMethodHS256, claims{TokenID: tokenID, Kind: kind,
		RegisteredClaims: jwt.RegisteredClaims{Subject: subject, Issuer: "coffer"}})
	return t.SignedString(s.key)
}

// parse checks the signature and returns the token record id. Errors never quote the token.
func (s signer) parse(token string) (string, error) {
	var c claims
	_, err := jwt.ParseWithClaims(token, &c, func(*jwt.Token) (any, error) { return s.key, nil },
		jwt.WithValidMethods([]string{"HS256"}), jwt.WithIssuer("coffer"))
	if err != nil {
		return "", fmt.Errorf("token rejected")
	}
	if c.TokenID == "" {
		return "", fmt.Errorf("token has no id")
	}
	return c.TokenID, nil
}
