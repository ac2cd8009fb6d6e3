package transport

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// LoadOrCreateKey reads the source key from <dir>/<name>.sauth, creating it when missing.
func LoadOrCreateKey(dir, name string) (ed25519.PrivateKey, error) {
	path := filepath.Join(dir, name+".sauth")
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		seed := make([]byte, ed25519.SeedSize)
		if _, err := rand.Read(seed); err != nil {
			return nil, err
		}
		if err := writeAtomic(path, []byte(hex.EncodeToString(seed)+"\n"), 0o600); err != nil {
			return nil, fmt.Errorf("write key %s: %w", path, err)
		}
		return ed25519.NewKeyFromSeed(seed), nil
	}
	if err != nil {
		return nil, fmt.Errorf("read key %s: %w", path, err)
	}
	seed, err := hex.DecodeString(strings.TrimSpace(string(b)))
	if err != nil || len(seed) != ed25519.SeedSize {
		return nil, fmt.Errorf("key %s: want %d hex-encoded bytes", path, ed25519.SeedSize)
	}
	return ed25519.NewKeyFromSeed(seed), nil
}

// ReadRestart returns the last piece number recorded in <dir>/<name>.restart, and whether there was one.
func ReadRestart(dir, name string) (uint32, bool, error) {
	path := filepath.Join(dir, name+".restart")
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("read %s: %w", path, err)
	}
	n, err := strconv.ParseUint(strings.TrimSpace(string(b)), 10, 32)
	if err != nil {
		return 0, false, fmt.Errorf("%s: not a piece number", path)
	}
	return uint32(n), true, nil
}

// WriteRestart records the newest piece number.
func WriteRestart(dir, name string, n uint32) error {
	return writeAtomic(filepath.Join(dir, name+".restart"), []byte(strconv.FormatUint(uint64(n), 10)+"\n"), 0o644)
}

// WriteFile writes the transport file to <dir>/<name>.acelive.
func WriteFile(dir string, f *File) (string, error) {
	b, err := f.Encode()
	if err != nil {
		return "", err
	}
	path := filepath.Join(dir, f.Info.Name+".acelive")
	return path, writeAtomic(path, b, 0o644)
}

func writeAtomic(path string, b []byte, mode os.FileMode) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, mode); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
