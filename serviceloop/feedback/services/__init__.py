"""Every write of the feedback app, one module per area; import from the module itself
(`serviceloop.feedback.services.responses`), nothing is re-exported here."""
