package testclip

import _ "embed"

// TS is the clip.
//
//go:embed clip.ts
var TS []byte
