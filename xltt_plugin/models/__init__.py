"""xltt_plugin.models"""
