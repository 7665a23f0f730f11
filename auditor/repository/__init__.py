"""The repository, loaded: files discovered under the root (``discovery``), each read,
parsed and modelled once, into the ``Repository`` record the facts start from."""
