package storechart_test

import (
	"fmt"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/storeplatform/storeplatform/internal/store"
	"github.com/storeplatform/storeplatform/internal/storechart"
)

// podDemand is what one pod counts against a ResourceQuota: for each
// resource, the larger of its containers' sum and its largest init
// container (the scheduler's and the quota's "effective" request).
func podDemand(spec corev1.PodSpec) corev1.ResourceList {
	out := corev1.ResourceList{}
	for _, kind := range []string{"requests", "limits"} {
		for _, res := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
			pick := func(c corev1.Container) resource.Quantity {
				if kind == "requests" {
					return c.Resources.Requests[res]
				}
				return c.Resources.Limits[res]
			}
			sum := resource.Quantity{}
			for _, c := range spec.Containers {
				sum.Add(pick(c))
			}
			for _, c := range spec.InitContainers {
				if q := pick(c); q.Cmp(sum) > 0 {
					sum = q
				}
			}
			out[corev1.ResourceName(kind+"."+string(res))] = sum
		}
	}
	return out
}

// rolloutPods is how many pods a workload may have at once during a
// rolling update: its replicas plus the Deployment's maxSurge (a
// StatefulSet, or a Deployment that recreates, replaces pods one by one).
func rolloutPods(t *testing.T, d *appsv1.Deployment) int64 {
	t.Helper()
	replicas := int64(1)
	if d.Spec.Replicas != nil {
		replicas = int64(*d.Spec.Replicas)
	}
	if d.Spec.Strategy.Type == appsv1.RecreateDeploymentStrategyType {
		return replicas
	}
	surge := intstr.FromString("25%") // the API's default
	if ru := d.Spec.Strategy.RollingUpdate; ru != nil && ru.MaxSurge != nil {
		surge = *ru.MaxSurge
	}
	n, err := intstr.GetScaledValueFromIntOrPercent(&surge, int(replicas), true)
	if err != nil {
		t.Fatal(err)
	}
	return replicas + int64(n)
}

// TestSizesLeaveRoomForRollingUpdates renders every size of every profile
// for both engines and checks that the namespace's quota admits every
// workload rolling out at once (surge pods included), that every container
// fits the LimitRange, and that the volumes fit the storage quota.
func TestSizesLeaveRoomForRollingUpdates(t *testing.T) {
	forEachSize(t, func(t *testing.T, vals map[string]any) {
		r := render(t, vals)
		var q corev1.ResourceQuota
		r.get(t, "ResourceQuota/shop", &q)
		var lr corev1.LimitRange
		r.get(t, "LimitRange/shop", &lr)
		max := lr.Spec.Limits[0].Max

		need := corev1.ResourceList{}
		add := func(name corev1.ResourceName, q resource.Quantity, times int64) {
			cur := need[name]
			for i := int64(0); i < times; i++ {
				cur.Add(q)
			}
			need[name] = cur
		}
		var pods, claims int64
		storage := resource.Quantity{}
		for key, o := range r {
			var podSpec corev1.PodSpec
			var n int64
			switch o.GetKind() {
			case "Deployment":
				var d appsv1.Deployment
				r.get(t, key, &d)
				podSpec, n = d.Spec.Template.Spec, rolloutPods(t, &d)
			case "StatefulSet":
				var s appsv1.StatefulSet
				r.get(t, key, &s)
				podSpec, n = s.Spec.Template.Spec, int64(*s.Spec.Replicas)
				for _, vct := range s.Spec.VolumeClaimTemplates {
					for i := int64(0); i < n; i++ {
						storage.Add(vct.Spec.Resources.Requests[corev1.ResourceStorage])
						claims++
					}
				}
			case "CronJob":
				// concurrencyPolicy Forbid: one run's pod at a time.
				var cj batchv1.CronJob
				r.get(t, key, &cj)
				if cj.Spec.ConcurrencyPolicy != batchv1.ForbidConcurrent {
					t.Errorf("%s: concurrencyPolicy %s, want Forbid", key, cj.Spec.ConcurrencyPolicy)
				}
				podSpec, n = cj.Spec.JobTemplate.Spec.Template.Spec, 1
			case "PersistentVolumeClaim":
				var pvc corev1.PersistentVolumeClaim
				r.get(t, key, &pvc)
				storage.Add(pvc.Spec.Resources.Requests[corev1.ResourceStorage])
				claims++
				continue
			default:
				continue
			}
			for name, q := range podDemand(podSpec) {
				add(name, q, n)
			}
			pods += n
			for _, c := range append(append([]corev1.Container{}, podSpec.InitContainers...), podSpec.Containers...) {
				for res, lim := range c.Resources.Limits {
					if m, ok := max[res]; ok && lim.Cmp(m) > 0 {
						t.Errorf("%s container %s: limit %s %s over the LimitRange max %s", key, c.Name, res, lim.String(), m.String())
					}
				}
			}
		}
		add(corev1.ResourcePods, *resource.NewQuantity(pods, resource.DecimalSI), 1)
		add(corev1.ResourceRequestsStorage, storage, 1)
		add(corev1.ResourcePersistentVolumeClaims, *resource.NewQuantity(claims, resource.DecimalSI), 1)
		for name, want := range need {
			hard, ok := q.Spec.Hard[name]
			if !ok {
				t.Errorf("quota has no %s", name)
				continue
			}
			if want.Cmp(hard) > 0 {
				t.Errorf("a rolling update needs %s %s, the quota allows %s", name, want.String(), hard.String())
			}
		}
		if need.Pods().Value() < 2 {
			t.Errorf("only %d pods counted: the render found no workloads", need.Pods().Value())
		}
	})
}

// forEachSize runs f as the subtest "profile/size/engine" for every
// profile, size and engine, with the values the platform makes for such a
// store.
func forEachSize(t *testing.T, f func(t *testing.T, vals map[string]any)) {
	t.Helper()
	for _, profile := range []string{"local", "prod"} {
		prof, err := storechart.LoadProfile(chartDir(t), profile)
		if err != nil {
			t.Fatal(err)
		}
		for _, size := range store.Sizes() {
			for _, engine := range engines {
				t.Run(profile+"/"+size+"/"+engine, func(t *testing.T) {
					f(t, prof.For(store.Spec{Name: "shop", Generation: 1, Engine: engine, Host: "shop.example.com", Size: size,
						MedusaImage: testMedusaImage + ":1.4.2"}))
				})
			}
		}
	}
}

// TestSizesGrow checks that each size is at least the one before it in
// every quota figure and volume, so that a resize up never shrinks anything.
func TestSizesGrow(t *testing.T) {
	for _, profile := range []string{"local", "prod"} {
		prof, err := storechart.LoadProfile(chartDir(t), profile)
		if err != nil {
			t.Fatal(err)
		}
		sizes := prof.Describe()
		if len(sizes) != 3 {
			t.Fatalf("%s: %d sizes", profile, len(sizes))
		}
		for i := 1; i < len(sizes); i++ {
			small, big := sizes[i-1], sizes[i]
			for k, v := range small.Quota {
				a, b := resource.MustParse(fmt.Sprint(v)), resource.MustParse(fmt.Sprint(big.Quota[k]))
				if b.Cmp(a) < 0 {
					t.Errorf("%s: quota %s of %s (%s) is less than %s's (%s)", profile, k, big.Name, b.String(), small.Name, a.String())
				}
			}
			for k, v := range small.Volumes {
				a, b := resource.MustParse(fmt.Sprint(v)), resource.MustParse(fmt.Sprint(big.Volumes[k]))
				if b.Cmp(a) < 0 {
					t.Errorf("%s: volume %s of %s is smaller than %s's", profile, k, big.Name, small.Name)
				}
			}
		}
	}
}

func TestSuspendedStoreHasNoReplicas(t *testing.T) {
	for _, engine := range engines {
		t.Run(engine, func(t *testing.T) {
			prof, err := storechart.LoadProfile(chartDir(t), "local")
			if err != nil {
				t.Fatal(err)
			}
			spec := store.Spec{Name: "shop", Generation: 1, Engine: engine, Host: "shop.example.com", Suspended: true,
				MedusaImage: testMedusaImage + ":1.4.2"}
			r := render(t, prof.For(spec))
			workloads := 0
			for key, o := range r {
				var replicas *int32
				switch o.GetKind() {
				case "CronJob":
					var cj batchv1.CronJob
					r.get(t, key, &cj)
					if cj.Spec.Suspend == nil || !*cj.Spec.Suspend {
						t.Errorf("%s is not suspended", key)
					}
					continue
				case "Deployment":
					var d appsv1.Deployment
					r.get(t, key, &d)
					replicas = d.Spec.Replicas
				case "StatefulSet":
					var s appsv1.StatefulSet
					r.get(t, key, &s)
					replicas = s.Spec.Replicas
				default:
					continue
				}
				workloads++
				if replicas == nil || *replicas != 0 {
					t.Errorf("%s: replicas %v, want 0", key, replicas)
				}
			}
			kept := map[string]string{store.EngineWooCommerce: "PersistentVolumeClaim/shop-wp-content", store.EngineMedusa: "PersistentVolumeClaim/shop-medusa-uploads"}[engine]
			if _, ok := r[kept]; !ok {
				t.Errorf("%s is not kept", kept)
			}
			if workloads < 2 {
				t.Fatalf("%d workloads rendered", workloads)
			}
		})
	}
}

func TestSpecFromValuesReadsBackTheSpec(t *testing.T) {
	prof, err := storechart.LoadProfile(chartDir(t), "prod")
	if err != nil {
		t.Fatal(err)
	}
	for _, spec := range []store.Spec{
		{Name: "shop", Generation: 1, Engine: store.EngineWooCommerce, Host: "shop.example.com", Title: "Shop", AdminEmail: "a@example.com", Size: "medium"},
		{Name: "kicks", Generation: 2, Engine: store.EngineMedusa, Host: "kicks.example.com", Title: "Kicks", MedusaImage: "ghcr.io/acme/medusa:1.2.3", Size: "large", Suspended: true},
		{Name: "dig", Generation: 1, Engine: store.EngineMedusa, Host: "dig.example.com", Title: "dig", MedusaImage: "ghcr.io/acme/medusa@sha256:" + fmt.Sprintf("%064d", 7), Size: "small"},
	} {
		got := storechart.SpecFromValues(prof.For(spec))
		got.Generation = spec.Generation
		if got != spec {
			t.Errorf("read back %+v, want %+v", got, spec)
		}
	}
	old := store.Spec{Title: "A", Size: "small"}
	cur := store.Spec{Title: "B", Size: "medium", Suspended: true}
	want := `[title: "A" -> "B" size: "small" -> "medium" suspended: false -> true]`
	if got := fmt.Sprint(storechart.SpecChanges(old, cur)); got != want {
		t.Errorf("changes %s, want %s", got, want)
	}
}

// TestClaimTemplatesDoNotChangeWithTheChartVersion: Kubernetes refuses any
// change to a StatefulSet's volume claim template, so a new chart version
// must render the same one, and the live labels the platform passes win.
func TestClaimTemplatesDoNotChangeWithTheChartVersion(t *testing.T) {
	for _, engine := range engines {
		t.Run(engine, func(t *testing.T) {
			prof, err := storechart.LoadProfile(chartDir(t), "local")
			if err != nil {
				t.Fatal(err)
			}
			spec := store.Spec{Name: "shop", Generation: 1, Engine: engine, Host: "shop.example.com", MedusaImage: testMedusaImage + ":1.4.2"}
			claims := func(version string, vals map[string]any) []corev1.PersistentVolumeClaim {
				c := loadChart(t)
				c.Metadata.Version = version
				rel, err := storechart.Render(c, "shop", "store-shop", vals)
				if err != nil {
					t.Fatal(err)
				}
				objs, err := storechart.Objects(rel.Manifest)
				if err != nil {
					t.Fatal(err)
				}
				var out []corev1.PersistentVolumeClaim
				for _, o := range objs {
					if o.GetKind() == "StatefulSet" {
						var s appsv1.StatefulSet
						if err := runtime.DefaultUnstructuredConverter.FromUnstructured(o.Object, &s); err != nil {
							t.Fatal(err)
						}
						out = append(out, s.Spec.VolumeClaimTemplates...)
					}
				}
				if len(out) != 1 {
					t.Fatalf("%d claim templates", len(out))
				}
				return out
			}
			a, b := claims("1.0.0", prof.For(spec)), claims("2.0.0", prof.For(spec))
			if fmt.Sprint(a) != fmt.Sprint(b) {
				t.Fatalf("the claim template changes with the chart version:\n%v\n%v", a, b)
			}
			for k := range a[0].Labels {
				if k == "helm.sh/chart" || k == "app.kubernetes.io/version" {
					t.Errorf("claim template label %s changes with versions", k)
				}
			}
			db := "mariadb"
			if engine == store.EngineMedusa {
				db = "postgresql"
			}
			live := map[string]any{"helm.sh/chart": "store-0.1.0", "app.kubernetes.io/instance": "shop"}
			pinned := claims("2.0.0", storechart.Merge(prof.For(spec), map[string]any{db: map[string]any{"persistence": map[string]any{"claimLabels": live}}}))
			if fmt.Sprint(pinned[0].Labels) != "map[app.kubernetes.io/instance:shop helm.sh/chart:store-0.1.0]" {
				t.Fatalf("live labels not kept: %v", pinned[0].Labels)
			}
		})
	}
}
