"""xltt_plugin.training"""
