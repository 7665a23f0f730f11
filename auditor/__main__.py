"""The entry point of the ``pubaudit`` script and of ``python -m auditor``.

It turns the cyclic garbage collector off before anything is imported: importing typer,
PyYAML and the engine creates tens of thousands of objects, none of them garbage, and the
collector would traverse them again and again (about 5 ms of a 130 ms pre-commit run). The
command line itself (``auditor.cli``) is imported only then. Library callers import
``auditor.engine`` directly and keep their own collector settings.
"""

import gc


def main() -> None:
    gc.disable()
    from auditor.cli import main as run_cli

    run_cli()


if __name__ == "__main__":
    main()
