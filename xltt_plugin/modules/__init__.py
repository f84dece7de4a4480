"""xltt_plugin.modules"""
