"""A notice on the home screen when MLX runs on the slow reference BLAS and no faster one is installed."""

from __future__ import annotations

from textual.widgets import Static

from punie_tui.core.accel import install_notice


class BlasNotice(Static):
    """Says how much faster MLX would be and the command that installs OpenBLAS; hidden otherwise."""

    DEFAULT_CSS = """
    BlasNotice { height: auto; margin: 0 1; padding: 0 1; border: tall $warning; color: $text-warning; }
    """

    def __init__(self, **kwargs) -> None:
        # Reading the status is a few file checks (no MLX import), cheap enough for compose.
        text = install_notice()
        super().__init__(text or "", markup=False, **kwargs)
        self.display = text is not None
