"""did:plc: operations, signatures, DIDs, audit-log rules and the documents they resolve to."""
