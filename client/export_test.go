package client

import "time"

// SetVerifierClock makes v's middleware read the time from now, so that a test can compute
// the Retry-After it must send from the test server's clock.
func SetVerifierClock(v *Verifier, now func() time.Time) { v.now = now }
