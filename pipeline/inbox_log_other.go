//go:build !linux

package pipeline

import "os"

func datasync(f *os.File) error { return f.Sync() }
