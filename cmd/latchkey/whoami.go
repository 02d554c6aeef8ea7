package main

import (
	"context"
	"fmt"
	"text/tabwriter"
)

// WhoamiCommand shows the logged-in user.
type WhoamiCommand struct {
	userSession
	jsonFlag
}

// whoami is what WhoamiCommand prints with --json.
type whoami struct {
	UserID     string   `json:"user_id"`
	Email      string   `json:"email,omitempty"`
	Provider   string   `json:"provider"` // of the session
	Identities []string `json:"identities"`
	URL        string   `json:"url"`
	App        string   `json:"app"`
}

// Run asks the server for the current user's profile, which also checks the session.
func (c *WhoamiCommand) Run(ctx context.Context, args []string) error {
	fs := c.flagSet("whoami", "whoami [--json]", "Shows the logged-in user, as the server knows it.")
	c.jsonFlag.register(fs, "print JSON")
	u, _, err := c.login(fs, args)
	if err != nil {
		return err
	}
	p, err := u.Profile(ctx)
	if err != nil {
		return explain(u, err)
	}
	w := whoami{UserID: p.UserID, Email: p.Email(), Provider: u.Provider(), Identities: []string{}, URL: u.App().BaseURL(), App: u.App().ID()}
	for _, id := range p.Identities {
		w.Identities = append(w.Identities, id.ProviderType)
	}
	if c.JSON {
		return printJSON(c.Stdout, w)
	}
	tw := tabwriter.NewWriter(c.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "user\t%s\n", w.UserID)
	if w.Email != "" {
		fmt.Fprintf(tw, "email\t%s\n", orDash(w.Email))
	}
	fmt.Fprintf(tw, "session\t%s\n", w.Provider)
	fmt.Fprintf(tw, "server\t%s\n", w.URL)
	fmt.Fprintf(tw, "app\t%s\n", w.App)
	return tw.Flush()
}
