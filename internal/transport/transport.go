package transport

import (
	"crypto/ed25519"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"

	"github.com/anacrolix/torrent/bencode"
)

// BlockLength is the size of the blocks pieces are carried in.
const BlockLength = 16 * 1024

// MaxFileSize bounds the transport files this package reads.
const MaxFileSize = 1 << 20

// Qualities are the values --quality takes.
var Qualities = []string{"SD", "HD"}

// Categories are the values --category takes (AceStream 3.0).
var Categories = []string{
	"informational", "entertaining", "educational", "movies", "documentaries", "sport",
	"fashion", "music", "regional", "ethnic", "religion", "teleshop", "erotic_18_plus",
	"other_18_plus", "cyber_games", "amateur", "webcam",
}

// Info is the part of the transport file that the infohash covers.
type Info struct {
	Name               string `bencode:"name"`
	Title              string `bencode:"title"`
	Quality            string `bencode:"quality"`
	Category           string `bencode:"category"`
	Bitrate            int64  `bencode:"bitrate"`
	PieceLength        int64  `bencode:"piece length"`
	BlockLength        int64  `bencode:"block length"`
	SignatureAlgorithm string `bencode:"signature algorithm"`
	PublicKey          string `bencode:"public key"`
	Live               int64  `bencode:"live"`
}

// File is a whole transport file.
type File struct {
	Announce     string     `bencode:"announce,omitempty"`
	AnnounceList [][]string `bencode:"announce-list,omitempty"`
	Metatrackers []string   `bencode:"metatrackers,omitempty"`
	StartupNodes []string   `bencode:"startup_nodes,omitempty"`
	CreatedBy    string     `bencode:"created by,omitempty"`
	CreationDate int64      `bencode:"creation date,omitempty"`
	Info         Info       `bencode:"info"`
}

// InfoHash is the SHA-1 of the bencoded info dictionary.
type InfoHash [20]byte

// String is the 40 lower-case hex digits.
func (h InfoHash) String() string { return hex.EncodeToString(h[:]) }

// ParseInfoHash reads 40 hex digits.
func ParseInfoHash(s string) (InfoHash, error) {
	var h InfoHash
	if len(s) != 40 {
		return h, fmt.Errorf("infohash %q: want 40 hex digits", s)
	}
	if _, err := hex.Decode(h[:], []byte(s)); err != nil {
		return h, fmt.Errorf("infohash %q: not hex", s)
	}
	return h, nil
}

// InfoHash computes the stream's infohash.
func (f *File) InfoHash() InfoHash {
	b, err := bencode.Marshal(f.Info)
	if err != nil {
		panic(err) // Info holds only strings and integers
	}
	return sha1.Sum(b)
}

// Trackers lists every tracker URL, announce first, without duplicates.
func (f *File) Trackers() []string {
	var out []string
	add := func(u string) {
		if u != "" && !slices.Contains(out, u) {
			out = append(out, u)
		}
	}
	add(f.Announce)
	for _, tier := range f.AnnounceList {
		for _, u := range tier {
			add(u)
		}
	}
	return out
}

// SetTrackers fills announce and announce-list.
func (f *File) SetTrackers(urls []string) {
	f.Announce, f.AnnounceList = "", nil
	for _, u := range urls {
		if f.Announce == "" {
			f.Announce = u
		}
		f.AnnounceList = append(f.AnnounceList, []string{u})
	}
}

// Key is the source's public key.
func (f *File) Key() ed25519.PublicKey { return ed25519.PublicKey(f.Info.PublicKey) }

// Encode bencodes the file.
func (f *File) Encode() ([]byte, error) { return bencode.Marshal(f) }

// Decode parses and validates a transport file.
func Decode(b []byte) (*File, error) {
	if len(b) > MaxFileSize {
		return nil, fmt.Errorf("transport file: larger than %d bytes", MaxFileSize)
	}
	var f File
	if err := bencode.Unmarshal(b, &f); err != nil {
		return nil, fmt.Errorf("transport file: bad bencoded data: %w", err)
	}
	if err := f.Info.Validate(); err != nil {
		return nil, fmt.Errorf("transport file: %w", err)
	}
	return &f, nil
}

// Validate checks the fields a node relies on.
func (i *Info) Validate() error {
	switch {
	case i.Name == "":
		return errors.New("info: name is empty")
	case i.SignatureAlgorithm != "ed25519":
		return fmt.Errorf("info: signature algorithm %q is not ed25519", i.SignatureAlgorithm)
	case len(i.PublicKey) != ed25519.PublicKeySize:
		return fmt.Errorf("info: public key has %d bytes, want %d", len(i.PublicKey), ed25519.PublicKeySize)
	case i.BlockLength <= 0 || i.BlockLength > 1<<20:
		return fmt.Errorf("info: block length %d out of range", i.BlockLength)
	case i.PieceLength < 188 || i.PieceLength > 16<<20:
		return fmt.Errorf("info: piece length %d out of range", i.PieceLength)
	case (i.PieceLength+i.BlockLength-1)/i.BlockLength > 0xFFFF:
		return errors.New("info: too many blocks per piece")
	case i.Bitrate < 0:
		return fmt.Errorf("info: bitrate %d is negative", i.Bitrate)
	}
	return nil
}
