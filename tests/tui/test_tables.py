"""Table cells are drawn whole even when the table draws before it is next idle."""

from __future__ import annotations

from rich.text import Text
from textual.app import App, ComposeResult
from textual.widgets import DataTable

from punie_tui.widgets import tables


class OneTable(App[None]):
    def compose(self) -> ComposeResult:
        yield DataTable()


def drawn_row(table: DataTable, row: int) -> str:
    # Line 0 is the header; rendered here, at once, as a screen update would.
    return table.render_line(row + 1).text


async def test_a_row_is_drawn_whole_before_the_table_is_idle() -> None:
    app = OneTable()
    async with app.run_test(size=(80, 10)) as pilot:
        table = app.query_one(DataTable)
        table.add_columns("target", "acc")
        await pilot.pause()
        tables.add_row(table, Text("★ run-1@50"), "[red]67%[/red]")
        assert drawn_row(table, 0).split() == ["★", "run-1@50", "67%"]
        tables.update_cell_at(table, (0, 1), "100% of the held-out set")
        assert "100% of the held-out set" in drawn_row(table, 0)


async def test_set_rows_sizes_columns_to_the_new_rows_alone() -> None:
    app = OneTable()
    async with app.run_test(size=(80, 10)) as pilot:
        table = app.query_one(DataTable)
        table.add_columns("target", "acc")
        tables.set_rows(table, [["a very long target name", "1"]])
        await pilot.pause()
        tables.set_rows(table, [["short", "1"], ["shorter", "2"]])
        assert [column.width for column in table.ordered_columns] == [len("shorter"), len("acc")]
        assert drawn_row(table, 1).split() == ["shorter", "2"]
