"""The errors fp8forge raises on purpose, under one base class.

Every library error a user can cause or meet is an ``Fp8forgeError``; its ``exit_status`` is
what the command line returns after printing the message (one line): 2 for input the user can
fix (``InputError``, also a ``ValueError``), 1 for a tool that is missing or failed on valid
input (``ToolError``, also a ``RuntimeError``). ``fp8forge.scripts.cli.main`` maps the base
class once.
"""

from __future__ import annotations

__all__ = ["Fp8forgeError", "InputError", "ToolError"]


class Fp8forgeError(Exception):
    """Base of fp8forge's errors; the message is one line a user can act on."""

    exit_status = 1


class InputError(Fp8forgeError, ValueError):
    """The user's input (a format, an option, a file, a design point) cannot be used."""

    exit_status = 2


class ToolError(Fp8forgeError, RuntimeError):
    """An external tool is missing or failed on valid input; the message says what to do."""

    exit_status = 1
