// Package latchkey is the domain of Latchkey, a self-hosted authentication server that
// speaks the App Services client API v2.0 and lets every user mint personal API keys.
//
// The package holds the types, the error codes and the interfaces that the implementation
// packages (service, sqlite, httpapi, cmd/latchkey) share. It imports only the standard
// library.
package latchkey
