"""atproto identity data: what a resolved DID document says about an account."""
