"""xltt_plugin.data"""
