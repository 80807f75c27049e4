"""Tooling behind ./inv: emulator control, Terraform adapter, Lambda packaging."""
