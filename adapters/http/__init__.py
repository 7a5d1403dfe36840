"""HTTP adapters: XRPC over Starlette."""
