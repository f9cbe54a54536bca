// Package platformchart holds the tests of charts/store-platform, the
// platform's own chart: rendered and linted without a cluster, installed on
// the local stack, and its RBAC proven by a worker that impersonates the
// chart's ServiceAccount through whole store lifecycles.
package platformchart
