"""The feedback app's forms, one module per area; import from the module itself."""
