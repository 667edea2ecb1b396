//go:build !linux

package hugepages

func reserve(int) bool { return false }

func useForBuffers() {}

func alloc(n int) []byte { return make([]byte, n) }

func carved(int) []byte { return nil }
