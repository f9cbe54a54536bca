package devstack

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// The real node's volumes: a StorageClass whose claims become directories
// under the node's directory, each a `local` PersistentVolume pinned to the
// real node, made when a pod that uses the claim is scheduled there and
// removed with its directory when the claim is deleted.
const (
	// RealNodeStorageClass is the real node's StorageClass (not the default:
	// kwok's stays the default, for the stores on kwok's nodes).
	RealNodeStorageClass = "real-node-local"
	// realNodeProvisioner is the StorageClass's provisioner name.
	realNodeProvisioner = "storeplatform.io/real-node-local"
	// selectedNodeAnnotation is what the scheduler writes on a claim of a
	// WaitForFirstConsumer class once it has placed the claim's first pod.
	selectedNodeAnnotation = "volume.kubernetes.io/selected-node"
	// provisionedByAnnotation marks the volumes this provisioner made.
	provisionedByAnnotation = "pv.kubernetes.io/provisioned-by"
)

// volumes provisions and deletes the real node's volumes. It polls rather
// than watches: the local stack has a handful of claims, and a poll every
// half second picks up a claim sooner than a pod's containers start.
type volumes struct {
	client kubernetes.Interface
	dir    string // the volumes' parent directory
	logger *slog.Logger
}

// realNodeStorageClass is the StorageClass of the real node's volumes.
func realNodeStorageClass() *storagev1.StorageClass {
	waitForPod := storagev1.VolumeBindingWaitForFirstConsumer
	reclaimDelete := corev1.PersistentVolumeReclaimDelete
	return &storagev1.StorageClass{
		ObjectMeta:        metav1.ObjectMeta{Name: RealNodeStorageClass},
		Provisioner:       realNodeProvisioner,
		ReclaimPolicy:     &reclaimDelete,
		VolumeBindingMode: &waitForPod,
	}
}

// run provisions and deletes until ctx ends.
func (v *volumes) run(ctx context.Context) {
	for {
		if err := v.sync(ctx); err != nil && ctx.Err() == nil {
			v.logger.Warn("real node volumes", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// sync makes a volume for every claim of the class that the scheduler
// placed on the real node and that has none, and deletes the released
// volumes it made, with their directories.
func (v *volumes) sync(ctx context.Context) error {
	claims, err := v.client.CoreV1().PersistentVolumeClaims(metav1.NamespaceAll).List(ctx, metav1.ListOptions{})
	if err != nil {
		return err
	}
	for i := range claims.Items {
		c := &claims.Items[i]
		if c.Spec.StorageClassName == nil || *c.Spec.StorageClassName != RealNodeStorageClass ||
			c.Spec.VolumeName != "" || c.Annotations[selectedNodeAnnotation] != RealNodeName || c.DeletionTimestamp != nil {
			continue
		}
		if err := v.provision(ctx, c); err != nil {
			return fmt.Errorf("provision %s/%s: %w", c.Namespace, c.Name, err)
		}
	}
	pvs, err := v.client.CoreV1().PersistentVolumes().List(ctx, metav1.ListOptions{})
	if err != nil {
		return err
	}
	for i := range pvs.Items {
		pv := &pvs.Items[i]
		if pv.Annotations[provisionedByAnnotation] != realNodeProvisioner || pv.Status.Phase != corev1.VolumeReleased {
			continue
		}
		if err := v.remove(ctx, pv); err != nil {
			return fmt.Errorf("delete %s: %w", pv.Name, err)
		}
	}
	return nil
}

// volumeName is the name of the volume of claim c (and of its directory).
func volumeName(c *corev1.PersistentVolumeClaim) string { return "pvc-" + string(c.UID) }

// provision makes c's directory (open to every user: the pod's fsGroup
// then owns what it writes) and its PersistentVolume, bound to c.
func (v *volumes) provision(ctx context.Context, c *corev1.PersistentVolumeClaim) error {
	name := volumeName(c)
	path := filepath.Join(v.dir, name)
	if err := os.MkdirAll(path, 0o777); err != nil {
		return err
	}
	if err := os.Chmod(path, 0o777); err != nil { // MkdirAll's mode is masked by the umask
		return err
	}
	reclaimDelete := corev1.PersistentVolumeReclaimDelete
	mode := corev1.PersistentVolumeFilesystem
	pv := &corev1.PersistentVolume{
		ObjectMeta: metav1.ObjectMeta{
			Name:        name,
			Annotations: map[string]string{provisionedByAnnotation: realNodeProvisioner},
		},
		Spec: corev1.PersistentVolumeSpec{
			Capacity:                      corev1.ResourceList{corev1.ResourceStorage: c.Spec.Resources.Requests[corev1.ResourceStorage]},
			AccessModes:                   c.Spec.AccessModes,
			PersistentVolumeReclaimPolicy: reclaimDelete,
			StorageClassName:              RealNodeStorageClass,
			VolumeMode:                    &mode,
			ClaimRef: &corev1.ObjectReference{
				Kind: "PersistentVolumeClaim", APIVersion: "v1",
				Namespace: c.Namespace, Name: c.Name, UID: c.UID,
			},
			PersistentVolumeSource: corev1.PersistentVolumeSource{Local: &corev1.LocalVolumeSource{Path: path}},
			NodeAffinity: &corev1.VolumeNodeAffinity{Required: &corev1.NodeSelector{
				NodeSelectorTerms: []corev1.NodeSelectorTerm{{MatchExpressions: []corev1.NodeSelectorRequirement{{
					Key: "kubernetes.io/hostname", Operator: corev1.NodeSelectorOpIn, Values: []string{RealNodeName},
				}}}},
			}},
		},
	}
	_, err := v.client.CoreV1().PersistentVolumes().Create(ctx, pv, metav1.CreateOptions{})
	if apierrors.IsAlreadyExists(err) {
		return nil
	}
	if err == nil {
		v.logger.Debug("real node volume provisioned", "claim", c.Namespace+"/"+c.Name, "path", path)
	}
	return err
}

// remove deletes a released volume's directory, then the volume.
func (v *volumes) remove(ctx context.Context, pv *corev1.PersistentVolume) error {
	if pv.Spec.Local == nil || filepath.Dir(pv.Spec.Local.Path) != v.dir {
		return fmt.Errorf("volume path %v is not under %s", pv.Spec.Local, v.dir)
	}
	if err := os.RemoveAll(pv.Spec.Local.Path); err != nil {
		return err
	}
	err := v.client.CoreV1().PersistentVolumes().Delete(ctx, pv.Name, metav1.DeleteOptions{})
	if apierrors.IsNotFound(err) {
		return nil
	}
	return err
}
