"""Consuming a `subscribeRepos` firehose: typed events, Sync 1.1 verification, resumption."""
