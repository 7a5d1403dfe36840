"""The embedded did:plc directory: an eventsourcing application whose log is the PLC op log."""
