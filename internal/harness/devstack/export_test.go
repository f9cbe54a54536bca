package devstack

// MountsUnder is mountsUnder for the tests of package devstack_test: the
// mount points below dir, deepest first.
func MountsUnder(dir string) ([]string, error) { return mountsUnder(dir) }
