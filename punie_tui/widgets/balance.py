"""A tool vs direct-answer balance gauge measured against the workspace's target share."""

from __future__ import annotations

from collections import Counter

from textual.widgets import Static

from punie_tui.core.balance import balance

_WIDTH = 20


def balance_text(labels: Counter[str], content: Counter[str], target: float) -> str:
    """Rich markup for the balance: human labels where any exist, else the content's own split."""
    counted = balance(labels, content)
    tool, direct, source, share = counted.tool, counted.direct, counted.source, counted.share
    if share is None:
        return "[b]Balance[/b]\n[dim]no usable examples[/dim]"
    filled = round(share * _WIDTH)
    mark = min(_WIDTH - 1, round(target * _WIDTH))
    bar = "".join(
        "|" if i == mark else ("█" if i < filled else "░") for i in range(_WIDTH)
    )
    off = share - target
    colour = "green" if abs(off) <= 0.05 else "yellow" if abs(off) <= 0.15 else "red"
    lines = [
        f"[b]Balance[/b] [dim](by {source})[/dim]",
        f"[{colour}]{bar}[/{colour}] {share:.0%} tool, target {target:.0%}",
        f"tool {tool}   direct {direct}   skip {labels['skip']}   unlabelled {labels['unlabelled']}",
    ]
    return "\n".join(lines)


class BalanceGauge(Static):
    DEFAULT_CSS = """
    BalanceGauge { height: auto; padding: 0 1; }
    """

    def __init__(self, **kwargs) -> None:
        super().__init__("[b]Balance[/b]\n[dim]reading...[/dim]", **kwargs)

    def update_counts(self, labels: Counter[str], content: Counter[str], target: float) -> None:
        self.update(balance_text(labels, content, target))
