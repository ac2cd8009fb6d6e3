package cli

// The ports each command listens on when its flags do not say (docs/cli.md); the deployment
// files' test (deploy_test.go) checks exposed ports against these.
const (
	defaultPeerPort          = 8621  // --port of a viewer, support or startup node
	defaultSourcePort        = 7764  // --port of a source node
	defaultHTTPPort          = 6878  // --http-port: the viewer engine's player API
	defaultAPIPort           = 62062 // --api-port: the legacy TCP engine API
	defaultTrackerListen     = ":6969"
	defaultMetatrackerListen = ":8080"
	defaultProxyAddr         = ":8080"
)
