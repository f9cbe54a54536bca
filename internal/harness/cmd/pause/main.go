// Command pause is the sandbox ("pause") image's one program on the local
// stack's real node: it holds the pod's namespaces open and does nothing
// until it is told to stop. No registry is reachable here, so the image
// containerd pins for every pod sandbox is built from this program
// (internal/harness/devstack).
package main

import (
	"os"
	"os/signal"
	"syscall"
)

func main() {
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGINT, syscall.SIGTERM)
	<-stop
}
