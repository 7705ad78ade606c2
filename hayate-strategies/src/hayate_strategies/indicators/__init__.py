"""Incremental technical indicators: O(1) work per update, no history kept beyond a window.

Each indicator takes one value (or one bar) per :meth:`update` and returns its current
value, or ``None`` while it has not seen enough data yet (``ready`` tells the same). They
work on floats: they are signals that steer quotes, never accounting.
"""

from hayate_strategies.indicators.atr import ATR, true_range
from hayate_strategies.indicators.bars import BarSampler
from hayate_strategies.indicators.ema import EMA
from hayate_strategies.indicators.rolling import RollingMean, RollingVariance
from hayate_strategies.indicators.rsi import RSI

__all__ = ["ATR", "EMA", "RSI", "BarSampler", "RollingMean", "RollingVariance", "true_range"]
