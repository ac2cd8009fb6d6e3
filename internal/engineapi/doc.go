// Package engineapi is AceStream's old TCP "Engine API" (port 62062): CRLF-terminated text
// commands, as HTTPAceProxy, acestream-orchestrator and their kin speak it.
package engineapi
