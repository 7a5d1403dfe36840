"""Mail adapters: where the operator's messages to account owners go."""
