"""The atproto data model: CIDs, DAG-CBOR, atproto JSON and TIDs."""
