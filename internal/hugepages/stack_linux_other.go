//go:build linux && !amd64

package hugepages

// onStack is 0: without growStack, reserve collects garbage.
const onStack = 0

func reserveOnStack() bool { return false }
