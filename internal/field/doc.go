// Package field carries the name of the Options field a validation error
// is about. Every Options type's Validate names fields, not flags
// ("RenewInterval must be > 0"), so that the library reads the same
// whoever calls it; a command maps the field to its flag with Rename
// ("--poll-interval must be > 0") and the user still sees what to change.
package field
