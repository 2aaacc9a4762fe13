"""A freqtrade strategy that never enters or exits on its own: Tests/compat/test_freqtrade.py trades through the bot's
REST API (forceenter / forceexit) only."""
from pandas import DataFrame

from freqtrade.strategy import IStrategy


class NeverSignals(IStrategy):
    INTERFACE_VERSION = 3
    timeframe = "1m"
    startup_candle_count = 0
    minimal_roi = {"0": 100}  # no ROI exit
    stoploss = -0.99  # and no stop-loss exit
    use_exit_signal = False

    def populate_indicators(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        return dataframe

    def populate_entry_trend(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        dataframe["enter_long"] = 0
        return dataframe

    def populate_exit_trend(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        dataframe["exit_long"] = 0
        return dataframe
