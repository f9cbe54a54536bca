// Package chaos is Store Platform's fault suite (issue #12): it runs the
// platform as real processes on the real local stack, injects faults —
// workers SIGKILLed at chosen activities, the Temporal server, FerretDB and
// kube-apiserver killed and started again on their data, deletions racing
// creations, a power loss of `storeplatform-dev`, a fleet rollout under
// worker kills — and checks after each scenario that nothing was lost or
// doubled:
//
//   - every store that was requested ends ready (or deleted where it was
//     deleted);
//   - a live store has exactly one namespace, one Helm release with one
//     deployed revision that is its newest, and one credentials Secret
//     whose values never changed since the suite first saw them;
//   - no namespace or release exists without a live record;
//   - every record's phase agrees with the cluster (ready: namespace
//     active, release deployed, every workload rolled out, the chart
//     version the record names; deleted: nothing left);
//   - no credential value appears in the workers', the API's or Temporal's
//     logs, or in Temporal's database;
//   - the API never answers 5xx to the suite, except 503 problem+json while
//     MongoDB is down.
//
// It also measures how soon an activity interrupted by a worker kill runs
// again, and how long each load takes to be ready.
//
// The stack is devstack's (etcd, kube-apiserver, controller-manager,
// scheduler, kwok nodes, the Temporal dev server) with FerretDB as a
// process of its own (devstack.Options.FerretDBCommand), so that every part
// can be killed; the platform is `bin/storeplatform api` and two
// `bin/storeplatform worker` processes, started by the suite. Scenario 6
// runs `bin/storeplatform-dev` itself, twice: once as the fault-free
// baseline and once with the power loss.
//
// cmd/chaos runs it (`make chaos`: the full scale, writing the table to
// docs/reliability.md); TestChaosQuick runs the quick scale in `make test`.
package chaos
