// Package mpegts works on 188-byte MPEG-TS packets: headers, PCR/PTS, PAT/PMT and keyframes.
package mpegts
