"""The `musicrec` command and the boot of a serving process: transport, like app/routes and realtime/.

- ``main.py``: the typer app (serve, migrate, services, eval) and its sub-commands:
  ``catalog_commands.py`` (import, index), ``library_commands.py``, ``listens_command.py``,
  ``train_command.py``.
- ``context.py``: what every command starts from: its settings, and the stores it works on.
- ``boot.py``: Hypercorn around the app, the embedded services, signals, a bounded exit;
  ``single_instance.py``: one serve per data directory and per port.

Nothing imports this package: it sits on top (tests/test_architecture.py).
"""
