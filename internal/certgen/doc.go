// Package certgen makes the throw-away certificates of the TLS walkthrough
// and tests: one CA, and for each name a certificate valid both as a server
// (for the given IP addresses) and as a client, so that one file pair serves
// a manager's listener and its forwarded calls. hack/certs is its command
// line. Keys are ECDSA P-256; certificates last a week unless told.
package certgen
