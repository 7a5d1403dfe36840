"""In-memory stand-ins for ports, for fast unit tests of the use cases."""
