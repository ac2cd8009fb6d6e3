// Package testclip embeds a 16-second MPEG-TS test clip (H.264 + AAC, a keyframe every 2 s) made
// by scripts/make-testclip.sh.
package testclip
