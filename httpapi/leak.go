package httpapi

import (
	"net/http"

	"github.com/latchkey/latchkey"
)

// leakReportItem is one finding, in the shape GitHub's secret scanning partner program
// sends.
type leakReportItem struct {
	Token  string `json:"token"`
	Type   string `json:"type"`
	URL    string `json:"url"`
	Source string `json:"source"`
}

// leakReportResult is the answer for one finding, in the shape that program expects.
type leakReportResult struct {
	TokenRaw  string `json:"token_raw"`
	TokenType string `json:"token_type"`
	Label     string `json:"label"` // true_positive or false_positive
}

// handleLeakReport takes key values found in public, disables the live ones and says which
// were live. It answers only the app's leak-report secret or an admin token.
func (s *Server) handleLeakReport(w http.ResponseWriter, r *http.Request) {
	app := appFrom(r)
	token, err := bearerToken(r)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	ctx := r.Context()
	if err := s.leaks.CheckLeakSecret(ctx, app, token); err != nil {
		auth, adminErr := s.admins.AuthenticateAdmin(ctx, token, latchkey.AdminAccessToken)
		if adminErr != nil {
			s.Error(w, r, err)
			return
		}
		ctx = latchkey.NewContextWithAdmin(ctx, auth)
	}
	var items []leakReportItem
	if err := decode(r, &items); err != nil {
		s.Error(w, r, err)
		return
	}
	values := make([]string, len(items))
	for i, it := range items {
		values[i] = it.Token
	}
	found, err := s.leaks.ReportLeakedKeys(ctx, app, values)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	resp := make([]leakReportResult, len(items))
	for i, it := range items {
		label := "false_positive"
		if found[i] {
			label = "true_positive"
		}
		resp[i] = leakReportResult{TokenRaw: it.Token, TokenType: "latchkey_api_key", Label: label}
	}
	writeJSON(w, http.StatusOK, resp)
}
