"""Tooling around the product that is not part of it: the bench (tools/bench, ./inv bench)."""
