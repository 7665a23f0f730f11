"""explain-log: read a CI log (``read``), parse what PyPI and the tools printed (``parse``),
check the claims against the declared publishers (``claims``), explain (``explain``), and
render the explanation (``report``)."""
