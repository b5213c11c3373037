//go:build js

package onnx

import "fmt"

// In the browser there is no filesystem: external data is an error.

func (r *reader) statExternal(loc string, need int64, what string) error {
	return fmt.Errorf("%s keeps its data in the external file %q: this build has no filesystem", what, loc)
}

func (r *reader) readExternalFile(loc string, off, size int64, what string) ([]byte, error) {
	return nil, fmt.Errorf("%s keeps its data in the external file %q: this build has no filesystem", what, loc)
}
