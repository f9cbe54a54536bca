// Package release holds the tests of the release workflow
// (.github/workflows/release.yaml), which publishes the platform's image:
// it is checked here, without GitHub, against the chart and the repository
// it builds from.
package release
