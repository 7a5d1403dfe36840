"""RepoHost: the eventsourcing application whose notification log is the firehose seq."""
