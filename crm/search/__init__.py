"""Search: the FTS5 index and its triggers (index.py), the query language and the bounded search (query.py),
the results page and the top bar's as-you-type suggestions (views.py), and `flask reindex`."""
