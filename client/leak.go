package client

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// Labels of a LeakResult, as GitHub's secret scanning partner program names them.
const (
	LeakTruePositive  = "true_positive"  // a key of the app: now disabled, its sessions ended
	LeakFalsePositive = "false_positive" // not a key of the app, or an old value past its grace
)

// LeakResult is the server's verdict on one reported value.
type LeakResult struct {
	Token     string `json:"token_raw"`  // the value as reported
	TokenType string `json:"token_type"` // "latchkey_api_key"
	Label     string `json:"label"`      // LeakTruePositive or LeakFalsePositive
}

// Found reports whether the value was a key of the app (disabled now, if it was not before).
func (r LeakResult) Found() bool { return r.Label == LeakTruePositive }

// Limits of one leak report request: the server takes at most 1000 findings and 64 KiB.
const (
	leakBatchCount = 1000
	leakBatchBytes = 48 << 10
	leakItemBytes  = 64 // the JSON around one value, generously
)

// leakItem is one finding in the body shape of GitHub's secret scanning partner program.
type leakItem struct {
	Token string `json:"token"`
	Type  string `json:"type"`
}

// ReportLeakedKeys reports key values found in public to the app with the client app id
// appID on the server at baseURL, authenticated by the app's leak-report secret (see
// Admin.RotateLeakSecret). The server disables each key it finds and ends its sessions at
// once; a previous value still in its rotation grace period loses its grace. The results
// are in the order of values. A long list is sent in several requests, within the server's
// limits on one; an error then leaves the earlier requests' keys disabled, and an empty list
// sends nothing. Of the options only WithHTTPClient applies. Errors: ErrInvalidSession
// (401: a wrong secret, or the app has none), ErrInvalidParameter (404: no such app).
func ReportLeakedKeys(ctx context.Context, baseURL, appID, secret string, values []string, opts ...Option) ([]LeakResult, error) {
	o := newOptions(opts)
	u := strings.TrimRight(baseURL, "/") + apiPrefix + "/app/" + url.PathEscape(appID) + "/auth/api_keys/leaked"
	results := make([]LeakResult, 0, len(values))
	for len(values) > 0 {
		n, size := 0, 0
		for n < len(values) && n < leakBatchCount {
			size += len(values[n]) + leakItemBytes
			if n > 0 && size > leakBatchBytes {
				break
			}
			n++
		}
		batch := make([]leakItem, n)
		for i, v := range values[:n] {
			batch[i] = leakItem{Token: v, Type: "latchkey_api_key"}
		}
		var got []LeakResult
		if err := roundTrip(ctx, o.http, http.MethodPost, u, secret, batch, &got); err != nil {
			return nil, err
		}
		if len(got) != n {
			return nil, fmt.Errorf("client: report leaked keys: the server answered %d results for %d values", len(got), n)
		}
		results = append(results, got...)
		values = values[n:]
	}
	return results, nil
}
