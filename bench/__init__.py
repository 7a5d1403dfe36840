"""Benchmarks: one command each, printing `name: value unit` lines."""
