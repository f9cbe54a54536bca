// Package activities holds the Temporal activities that do Store Platform's
// I/O: Kubernetes, Helm and MongoDB.
package activities
