"""The engine: runs the enabled rules over the facts, builds findings (ids, severities, spans,
fingerprints), applies inline suppression (``suppression``) and baselines (``scan``)."""
