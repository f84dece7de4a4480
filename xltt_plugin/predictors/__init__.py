"""xltt_plugin.predictors"""
