"""DataTable cells whose columns are wide enough the moment the table draws them.

A DataTable widens its auto-width columns the next time it is idle. When it draws in between (a
loaded machine, a busy screen), textual 8.2 keeps that narrow rendering cached, and cells stay
cut short until some unrelated change: the eval screen showed "★ run-" for "★ run-1@50". The
functions here give each column an explicit width, grown to fit a cell before the cell goes in.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from rich.cells import cell_len
from rich.text import Text
from textual.coordinate import Coordinate
from textual.widgets import DataTable
from textual.widgets.data_table import Column, RowKey


def _width(cell: Any) -> int:
    if isinstance(cell, Text):
        return cell.cell_len
    if isinstance(cell, str):
        return Text.from_markup(cell).cell_len  # a DataTable renders a str cell as markup
    return cell_len(str(cell))


def _fit(column: Column, cell: Any) -> None:
    width = max(_width(cell), column.label.cell_len, 0 if column.auto_width else column.width)
    column.width, column.auto_width = width, False


def add_row(table: DataTable, *cells: Any, **kwargs: Any) -> RowKey:
    """`table.add_row`, its columns first widened to fit the cells."""
    for column, cell in zip(table.ordered_columns, cells):
        _fit(column, cell)
    return table.add_row(*cells, **kwargs)


def set_rows(table: DataTable, rows: Iterable[list[Any]]) -> None:
    """Replace every row, the columns sized to the new rows alone."""
    table.clear()
    for column in table.ordered_columns:
        column.width, column.auto_width = column.label.cell_len, False
    for row in rows:
        add_row(table, *row)


def update_cell_at(table: DataTable, coordinate: Coordinate | tuple[int, int], value: Any) -> None:
    """`table.update_cell_at`, its column first widened to fit the value."""
    coordinate = Coordinate(*coordinate)
    _fit(table.ordered_columns[coordinate.column], value)
    table.update_cell_at(coordinate, value, update_width=True)
