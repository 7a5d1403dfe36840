"""Ports: what the application needs from the outside world, as `typing.Protocol`s."""
