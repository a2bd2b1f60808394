"""Today: the follow-up queue (the home page), follow-ups, the pipeline stage and sales, the prospect score."""
