"""The engine: runs the enabled rules over the facts, builds findings (ids, severities, spans,
fingerprints), applies inline suppression and baselines (``scan``), and names the wrapper
file behind an upload in its findings (``upload_notes``)."""
