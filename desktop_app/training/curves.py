"""Live loss curves of a training run: the running training loss per batch and the validation loss per epoch.

The x axis is in epochs: batch ``b`` of ``B`` in epoch ``e`` (0-based) is drawn at ``e + (b + 1) / B``,
an epoch's validation loss at ``e + 1``. Points come from :mod:`core.training.events` only.
"""

from __future__ import annotations

import math

import pyqtgraph as pg
from PySide6.QtWidgets import QVBoxLayout, QWidget


class LossCurves(QWidget):
    """Two curves, ``loss`` and ``val_loss``, that grow as :meth:`add_batch` / :meth:`add_epoch` are called."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.plot = pg.PlotWidget(background=None)
        self.plot.setLabel("bottom", "epoch")
        self.plot.setLabel("left", "loss")
        self.plot.showGrid(x=True, y=True, alpha=0.2)
        self.plot.addLegend(offset=(-10, 10))
        self.loss_curve = self._curve("loss", "#56b4e9")
        self.val_curve = self._curve("val_loss", "#e69f00", symbol="o")
        self.loss_x: list[float] = []
        self.loss_y: list[float] = []
        self.val_x: list[float] = []
        self.val_y: list[float] = []
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.plot)

    def _curve(self, name: str, color: str, symbol: str | None = None) -> pg.PlotDataItem:
        item = self.plot.plot([], [], name=name, pen=pg.mkPen(color, width=2), symbol=symbol, symbolSize=6,
                              symbolBrush=color)
        item.setDownsampling(auto=True, method="peak")
        item.setClipToView(True)
        return item

    def clear(self) -> None:
        for values in (self.loss_x, self.loss_y, self.val_x, self.val_y):
            values.clear()
        self.loss_curve.setData([], [])
        self.val_curve.setData([], [])

    def add_batch(self, epoch: int, batch: int, batches: int | None, loss: float) -> None:
        """The running training loss after ``batch`` (0-based) of ``batches`` in ``epoch``; non-finite values are skipped."""
        if not math.isfinite(loss):
            return
        self.loss_x.append(epoch + (batch + 1) / batches if batches else epoch + 1.0)
        self.loss_y.append(loss)
        self.loss_curve.setData(self.loss_x, self.loss_y)

    def add_epoch(self, epoch: int, val_loss: float | None) -> None:
        """The validation loss at the end of ``epoch`` (nothing when the run has no validation data)."""
        if val_loss is None or not math.isfinite(val_loss):
            return
        self.val_x.append(epoch + 1.0)
        self.val_y.append(val_loss)
        self.val_curve.setData(self.val_x, self.val_y)

    def show_history(self, history: list[dict]) -> None:
        """Draw a finished run's per-epoch ``loss`` and ``val_loss`` (from its run record)."""
        self.clear()
        for row in history:
            epoch = int(row.get("epoch", len(self.val_x)))
            loss = row.get("loss")
            if isinstance(loss, int | float) and math.isfinite(loss):
                self.loss_x.append(epoch + 1.0)
                self.loss_y.append(float(loss))
            val = row.get("val_loss")
            self.add_epoch(epoch, float(val) if isinstance(val, int | float) else None)
        self.loss_curve.setData(self.loss_x, self.loss_y)
