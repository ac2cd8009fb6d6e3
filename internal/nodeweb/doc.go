// Package nodeweb is a node's web interface on its main port: monitoring, updating limits on
// the fly, and the transport file (AceStream's /app/[TOKEN/]… URLs).
package nodeweb
