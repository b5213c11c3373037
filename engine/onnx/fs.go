//go:build !js

package onnx

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// externalPath resolves a location relative to the model's directory and
// refuses paths that leave it.
func (r *reader) externalPath(loc, what string) (string, error) {
	clean := filepath.Clean(filepath.FromSlash(loc))
	if filepath.IsAbs(clean) || clean == ".." || strings.HasPrefix(clean, ".."+string(filepath.Separator)) {
		return "", fmt.Errorf("%s has external data location %q outside the model's directory: only relative paths below it are read", what, loc)
	}
	return filepath.Join(r.opt.BaseDir, clean), nil
}

// statExternal checks that an external data file holds at least need bytes.
func (r *reader) statExternal(loc string, need int64, what string) error {
	path, err := r.externalPath(loc, what)
	if err != nil {
		return err
	}
	st, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("%s keeps its data in the external file %q: %w", what, loc, err)
	}
	if !st.Mode().IsRegular() {
		return fmt.Errorf("%s keeps its data in %q, which is not a regular file", what, loc)
	}
	if st.Size() < need {
		return fmt.Errorf("%s needs %d bytes of the external file %q, which has %d", what, need, loc, st.Size())
	}
	return nil
}

// readExternalFile reads size bytes at off of an external data file.
func (r *reader) readExternalFile(loc string, off, size int64, what string) ([]byte, error) {
	path, err := r.externalPath(loc, what)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	defer f.Close()
	b := make([]byte, size)
	if k, err := f.ReadAt(b, off); int64(k) < size {
		return nil, fmt.Errorf("%s: reading %d bytes at offset %d of %q: %v", what, size, off, loc, err)
	}
	return b, nil
}
