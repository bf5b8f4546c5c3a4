"""Every read of the feedback app that is more than one line, one module per area; import from the
module itself (`serviceloop.feedback.queries.channels`), nothing is re-exported here."""
