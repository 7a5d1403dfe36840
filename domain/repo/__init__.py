"""atproto repositories: Merkle Search Tree, signed commits, CAR files, proofs."""
