"""The `com.atproto.sync.subscribeRepos` event stream: frames and their verification."""
