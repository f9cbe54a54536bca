// Package workflows holds Store Platform's Temporal workflows. They are
// deterministic: all I/O happens in package activities.
package workflows
