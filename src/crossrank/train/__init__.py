"""Fine-tuning cross-encoders: `fit` (what `crossrank train` runs), its settings, and the default model's recipe."""

from crossrank.train.fit import FitReport, MiningConfig, fit
from crossrank.train.trainer import TrainConfig

__all__ = ["FitReport", "MiningConfig", "TrainConfig", "fit"]
