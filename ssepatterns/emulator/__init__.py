"""The local AWS target: MiniStack, patched by a narrow shim, run as a managed background process."""
