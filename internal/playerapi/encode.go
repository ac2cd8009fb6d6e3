package playerapi

import (
	"crypto/sha1"
	"encoding/base64"
	"encoding/hex"
	"net/url"
)

func sha1Hex(b []byte) string {
	sum := sha1.Sum(b)
	return hex.EncodeToString(sum[:])
}

func base64Std(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

func parseQuery(s string) (url.Values, error) { return url.ParseQuery(s) }
