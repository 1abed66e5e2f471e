"""Loading numbers: reading pasted text and files (``readers``), and the background jobs
that import large files (``jobs``)."""
