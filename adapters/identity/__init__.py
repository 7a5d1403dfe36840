"""Identity adapters: PLC clients, the DID registrar and the DID/handle resolver."""
