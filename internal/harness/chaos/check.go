package chaos

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"

	"helm.sh/helm/v3/pkg/release"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/storeplatform/storeplatform/activities"
	"github.com/storeplatform/storeplatform/internal/store"
)

// revision is one Helm release revision, read from Helm's storage Secret.
type revision struct {
	Namespace, Name string
	Version         int
	Status          string
	Chart           string // the chart's version
}

// cluster is what the cluster holds of the platform's stores at one moment.
type cluster struct {
	namespaces  map[string]corev1.Namespace // by name
	storeNS     map[string][]string         // store -> namespaces labelled with it
	credentials map[string][]corev1.Secret  // store -> its credentials Secrets
	releases    map[string][]revision       // release name -> every revision, any namespace, oldest first
	workloads   map[string][]workloadStatus // namespace -> its Deployments and StatefulSets
	records     map[string]store.Record     // every record, by name
}

// workloadStatus is whether one Deployment or StatefulSet has rolled out.
type workloadStatus struct {
	name  string
	ready bool
}

// snapshot reads the cluster and every record.
func (c *conns) snapshot(ctx context.Context) (*cluster, error) {
	cl := &cluster{namespaces: map[string]corev1.Namespace{}, storeNS: map[string][]string{}, credentials: map[string][]corev1.Secret{},
		releases: map[string][]revision{}, workloads: map[string][]workloadStatus{}}
	nss, err := c.Kube.CoreV1().Namespaces().List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("list namespaces: %w", err)
	}
	for _, ns := range nss.Items {
		cl.namespaces[ns.Name] = ns
		if s := ns.Labels[activities.LabelStore]; s != "" {
			cl.storeNS[s] = append(cl.storeNS[s], ns.Name)
		}
	}
	creds, err := c.Kube.CoreV1().Secrets("").List(ctx, metav1.ListOptions{LabelSelector: activities.LabelManagedBy + "=" + activities.ManagedBy})
	if err != nil {
		return nil, fmt.Errorf("list credentials: %w", err)
	}
	for _, s := range creds.Items {
		if st := s.Labels[activities.LabelStore]; st != "" {
			cl.credentials[st] = append(cl.credentials[st], s)
		}
	}
	helm, err := c.Kube.CoreV1().Secrets("").List(ctx, metav1.ListOptions{LabelSelector: "owner=helm"})
	if err != nil {
		return nil, fmt.Errorf("list helm releases: %w", err)
	}
	for _, s := range helm.Items {
		v, _ := strconv.Atoi(s.Labels["version"])
		r := revision{Namespace: s.Namespace, Name: s.Labels["name"], Version: v, Status: s.Labels["status"]}
		if rel, err := decodeRelease(s.Data["release"]); err == nil && rel.Chart != nil && rel.Chart.Metadata != nil {
			r.Chart = rel.Chart.Metadata.Version
		}
		cl.releases[r.Name] = append(cl.releases[r.Name], r)
	}
	for _, revs := range cl.releases {
		sort.Slice(revs, func(i, j int) bool { return revs[i].Version < revs[j].Version })
	}
	deps, err := c.Kube.AppsV1().Deployments("").List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("list deployments: %w", err)
	}
	for _, d := range deps.Items {
		cl.workloads[d.Namespace] = append(cl.workloads[d.Namespace], workloadStatus{"deployment/" + d.Name, deploymentReady(d)})
	}
	sts, err := c.Kube.AppsV1().StatefulSets("").List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("list statefulsets: %w", err)
	}
	for _, s := range sts.Items {
		cl.workloads[s.Namespace] = append(cl.workloads[s.Namespace], workloadStatus{"statefulset/" + s.Name, statefulSetReady(s)})
	}
	if cl.records, err = c.records(ctx, nil); err != nil {
		return nil, fmt.Errorf("read records: %w", err)
	}
	return cl, nil
}

func deploymentReady(d appsv1.Deployment) bool {
	want := int32(1)
	if d.Spec.Replicas != nil {
		want = *d.Spec.Replicas
	}
	s := d.Status
	return s.ObservedGeneration >= d.Generation && s.UpdatedReplicas == want && s.ReadyReplicas == want && s.Replicas == want
}

func statefulSetReady(st appsv1.StatefulSet) bool {
	want := int32(1)
	if st.Spec.Replicas != nil {
		want = *st.Spec.Replicas
	}
	s := st.Status
	return s.ObservedGeneration >= st.Generation && s.ReadyReplicas == want && s.UpdatedReplicas == want &&
		(s.UpdateRevision == "" || s.CurrentRevision == s.UpdateRevision)
}

// decodeRelease decodes a Helm storage Secret's release: base64 of gzipped
// JSON, as Helm's secrets driver writes it.
func decodeRelease(data []byte) (*release.Release, error) {
	b, err := base64.StdEncoding.DecodeString(string(data))
	if err != nil {
		return nil, err
	}
	if len(b) > 3 && bytes.Equal(b[:3], []byte{0x1f, 0x8b, 0x08}) {
		r, err := gzip.NewReader(bytes.NewReader(b))
		if err != nil {
			return nil, err
		}
		defer r.Close()
		if b, err = io.ReadAll(r); err != nil {
			return nil, err
		}
	}
	var rel release.Release
	return &rel, json.Unmarshal(b, &rel)
}

// verdict is what the invariants found after one scenario.
type verdict struct {
	Ready, Deleted, Lost                   int
	DupReleases, DupNamespaces, DupSecrets int
	OrphanNamespaces, OrphanReleases       int
	SecretsChanged, Mismatches             int
	// Failures are the invariants that did not hold, one line each.
	Failures []string
}

func (v *verdict) fail(format string, args ...any) {
	v.Failures = append(v.Failures, fmt.Sprintf(format, args...))
}

// check tests the invariants for the stores in want (each should end in
// its phase: ready or deleted) against the cluster, and looks for
// namespaces and releases without a live record anywhere; reported lists
// the orphans earlier checks reported, which are not counted again.
func check(cl *cluster, sw *secretWatch, want map[string]store.Phase, reported map[string]bool) verdict {
	var v verdict
	for _, name := range sortedKeys(want) {
		rec, ok := cl.records[name]
		if !ok {
			v.Lost++
			v.fail("%s: no record (lost)", name)
			continue
		}
		if rec.Phase != want[name] {
			v.Lost++
			v.fail("%s: %s, not %s (%s)", name, rec.Phase, want[name], rec.Message)
			continue
		}
		if want[name] == store.PhaseDeleted {
			v.Deleted++
			checkDeleted(&v, cl, name)
			continue
		}
		v.Ready++
		checkLive(&v, cl, sw, rec)
	}
	checkOrphans(&v, cl, reported)
	return v
}

// checkLive: one namespace, one release with exactly one deployed revision
// that is also its newest (nothing pending, nothing failed on top), one
// credentials Secret whose values never changed, every workload rolled
// out, and the chart version the record names.
func checkLive(v *verdict, cl *cluster, sw *secretWatch, rec store.Record) {
	name, ns := rec.Name, store.NamespaceFor(rec.Name)
	switch n := cl.storeNS[name]; {
	case len(n) > 1:
		v.DupNamespaces++
		v.fail("%s: %d namespaces %v", name, len(n), n)
	case len(n) == 0 || n[0] != ns:
		v.Mismatches++
		v.fail("%s: ready, but namespaces %v (want %s)", name, n, ns)
	case cl.namespaces[ns].Status.Phase != corev1.NamespaceActive:
		v.Mismatches++
		v.fail("%s: ready, but namespace %s is %s", name, ns, cl.namespaces[ns].Status.Phase)
	}
	revs := cl.releases[name]
	places, deployed := map[string]bool{}, 0
	var last revision
	for _, r := range revs {
		places[r.Namespace] = true
		if r.Namespace != ns {
			continue
		}
		if r.Status == string(release.StatusDeployed) {
			deployed++
		}
		last = r
	}
	switch {
	case len(places) > 1 || deployed > 1:
		v.DupReleases++
		v.fail("%s: releases in %d namespaces, %d deployed revisions", name, len(places), deployed)
	case deployed == 0:
		v.Mismatches++
		v.fail("%s: ready, but no deployed release revision (%s)", name, revisionList(revs))
	case last.Status != string(release.StatusDeployed):
		v.Mismatches++
		v.fail("%s: half-upgraded: the newest revision %d is %s (%s)", name, last.Version, last.Status, revisionList(revs))
	case rec.ChartVersion != "" && last.Chart != rec.ChartVersion:
		v.Mismatches++
		v.fail("%s: the record says chart %s, the release runs %s", name, rec.ChartVersion, last.Chart)
	}
	secrets := cl.credentials[name]
	switch {
	case len(secrets) > 1:
		v.DupSecrets++
		v.fail("%s: %d credentials Secrets", name, len(secrets))
	case len(secrets) == 0:
		v.Mismatches++
		v.fail("%s: ready, but no credentials Secret", name)
	default:
		s := secrets[0]
		key := s.Namespace + "/" + s.Name
		first := sw.firstValues(key)
		var changed []string
		for k, val := range s.Data {
			if old, ok := first[k]; ok && old != string(val) {
				changed = append(changed, k)
			}
		}
		if ch := sw.changes(key); len(changed) > 0 || len(ch) > 0 {
			v.SecretsChanged++
			sort.Strings(changed)
			v.fail("%s: credentials changed since first seen: %v %v", name, changed, ch)
		}
		if first == nil {
			v.fail("%s: the credentials Secret was never seen by the watch", name)
		}
	}
	var notReady []string
	for _, w := range cl.workloads[ns] {
		if !w.ready {
			notReady = append(notReady, w.name)
		}
	}
	if len(cl.workloads[ns]) == 0 || len(notReady) > 0 {
		v.Mismatches++
		v.fail("%s: ready, but workloads not rolled out: %v of %d", name, notReady, len(cl.workloads[ns]))
	}
}

// checkDeleted: no credentials Secret left outside a namespace (a
// namespace or release left is an orphan, which checkOrphans counts).
func checkDeleted(v *verdict, cl *cluster, name string) {
	if len(cl.storeNS[name]) > 0 {
		return
	}
	if s := cl.credentials[name]; len(s) > 0 {
		v.Mismatches++
		v.fail("%s: deleted, but %d credentials Secrets remain", name, len(s))
	}
}

// checkOrphans counts namespaces and releases of stores whose record is
// missing or deleted (reported ones excepted, then added to reported).
func checkOrphans(v *verdict, cl *cluster, reported map[string]bool) {
	live := func(name string) (bool, string) {
		rec, ok := cl.records[name]
		switch {
		case !ok:
			return false, "no record"
		case rec.Phase == store.PhaseDeleted:
			return false, "record deleted"
		}
		return true, ""
	}
	for _, name := range sortedKeys(cl.storeNS) {
		for _, ns := range cl.storeNS[name] {
			ok, why := live(name)
			if ok || reported["ns/"+ns] {
				continue
			}
			reported["ns/"+ns] = true
			v.OrphanNamespaces++
			v.fail("orphaned namespace %s (%s; %s)", ns, why, cl.namespaces[ns].Status.Phase)
		}
	}
	for _, name := range sortedKeys(cl.releases) {
		ok, why := live(name)
		key := "release/" + name
		if ok || reported[key] || len(cl.storeNS[name]) > 0 {
			continue // a release in an orphaned namespace is counted with it
		}
		reported[key] = true
		v.OrphanReleases++
		v.fail("orphaned release %s (%s): %s", name, why, revisionList(cl.releases[name]))
	}
}

func revisionList(revs []revision) string {
	var parts []string
	for _, r := range revs {
		parts = append(parts, fmt.Sprintf("%s/%s v%d %s chart %s", r.Namespace, r.Name, r.Version, r.Status, r.Chart))
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}
