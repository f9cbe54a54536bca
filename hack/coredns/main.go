// Command coredns is CoreDNS (github.com/coredns/coredns) with the plugins
// the real node's cluster DNS uses and no others: kubernetes (Services and
// pods of cluster.local), forward (everything else, to the machine's
// resolvers), bind (the node's address only), cache, errors, health and
// ready. CoreDNS's own main links all of its plugins; the Makefile
// builds this one (make node-tools).
package main

import (
	"github.com/coredns/coredns/coremain"

	_ "github.com/coredns/coredns/plugin/bind"
	_ "github.com/coredns/coredns/plugin/cache"
	_ "github.com/coredns/coredns/plugin/errors"
	_ "github.com/coredns/coredns/plugin/forward"
	_ "github.com/coredns/coredns/plugin/health"
	_ "github.com/coredns/coredns/plugin/kubernetes"
	_ "github.com/coredns/coredns/plugin/ready"
)

func main() { coremain.Run() }
