// Package playerapi serves AceStream's player HTTP API: /ace/getstream and its playback URLs.
package playerapi
