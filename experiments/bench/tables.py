"""A result's data table in the words of its chart: human column names and row labels, never code names.

An experiment keeps computing with its code names (``COLUMNS = ["model", "seq_len", ...]``) and stores the table
through :func:`labelled_table`; code that reads the numbers back (a figure function, the bench report) uses
:func:`table_records`, which accepts both the labelled tables and the code-named ones stored before them.
:func:`display_table` gives an old, code-named stored table its labels when a panel shows it. No torch here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any


def labelled_table(
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    column_labels: Mapping[str, str],
    value_labels: Mapping[str, Mapping[str, str]] | None = None,
) -> dict[str, Any]:
    """``{"columns": [labels], "rows": [...]}`` with the cells of the ``value_labels`` columns given their labels."""
    value_labels = value_labels or {}
    index = {i: value_labels[key] for i, key in enumerate(columns) if key in value_labels}
    return {
        "columns": [column_labels.get(key, key) for key in columns],
        "rows": [[index[i].get(cell, cell) if i in index else cell for i, cell in enumerate(row)] for row in rows],
    }


def table_records(
    table: Mapping[str, Any],
    *,
    column_labels: Mapping[str, str],
    value_labels: Mapping[str, Mapping[str, str]] | None = None,
) -> list[dict[str, Any]]:
    """Each row as ``{code name: code value}``, whether the table was stored labelled or with code names."""
    keys = {label: key for key, label in column_labels.items()}
    codes = {column: {label: code for code, label in labels.items()} for column, labels in (value_labels or {}).items()}
    names = [keys.get(column, column) for column in table["columns"]]
    return [
        {name: codes[name].get(cell, cell) if name in codes else cell for name, cell in zip(names, row, strict=True)}
        for row in table["rows"]
    ]


def display_table(
    table: Mapping[str, Any],
    *,
    column_labels: Mapping[str, str],
    value_labels: Mapping[str, Mapping[str, str]] | None = None,
) -> dict[str, Any]:
    """The table as the chart labels it (a table stored with code names gets its labels; a labelled one is kept)."""
    records = table_records(table, column_labels=column_labels, value_labels=value_labels)
    columns = [{label: key for key, label in column_labels.items()}.get(c, c) for c in table["columns"]]
    return labelled_table(
        columns, [[record[c] for c in columns] for record in records], column_labels=column_labels,
        value_labels=value_labels,
    )
