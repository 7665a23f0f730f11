"""Trusted publishers: what each publish job needs against what is declared
(``matching``, ``expected``), the values to register (``registration``), the JSON inventory
(``inventory``), and both sides for explain-log (``sides``)."""
