"""Firehose client adapters: the WebSocket frame source and DID signing-key resolution."""
