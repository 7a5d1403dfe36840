"""Serving the seq view as `com.atproto.sync.subscribeRepos`: one tail, many subscribers."""
