"""xltt_plugin.metrics"""
