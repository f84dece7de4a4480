"""xltt_plugin.commands"""
