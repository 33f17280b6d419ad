package openmini

// Actor is who performs an action: a signed-in account, or an API key
// acting for an organisation. Services authorise with it and the audit log
// records its Label.
type Actor struct {
	AccountID int64  // the person, or who created the API key; 0 if unknown
	Label     string // shown in the audit log: an e-mail, or "API key NAME"
	StaffRole string // the operator staff role of the person ("", "admin", "reviewer")
	// For API keys: the key and its scope. An API key acts within KeyOrgID
	// (and only on KeyAppID when set), with the rights of a developer.
	KeyID    int64
	KeyOrgID int64
	KeyAppID string
}

// IsKey reports whether the actor is an API key.
func (a Actor) IsKey() bool { return a.KeyID != 0 }

// IsStaff reports whether the actor is operator staff (never an API key).
func (a Actor) IsStaff() bool { return a.StaffRole != "" && !a.IsKey() }

// IsAdmin reports whether the actor is an operator admin.
func (a Actor) IsAdmin() bool { return a.StaffRole == "admin" && !a.IsKey() }
