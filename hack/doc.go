// Package hack holds the repository's scripts (hack/*.sh) and the Go module
// that pins the local control plane (hack/kube). It has no Go code of its
// own: its tests run the scripts.
package hack
