package version

import "strconv"

// Version is the release, X.Y.Z: the AceStream engine interface level aceswarm implements.
const Version = "3.0.0"

// Revision is the build number printed after the version, as AceStream does.
const Revision = 1

// Line is what --version prints, in AceStream's format.
func Line() string { return "version: " + Version + " revision: " + strconv.Itoa(Revision) }
