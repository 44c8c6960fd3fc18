"""Markdown helpers shared by the experiments."""

from __future__ import annotations

from fp8forge.table import render


def table(header: list[str], rows: list[list]) -> str:
    return render(header, [[str(c) for c in row] for row in rows], markdown=True)
