"""
xltt_plugin.translation: translators, a translation cache and answer-span preservation for
`allennlp xltt-translate` (building the parallel corpora, paper §4.1).
"""
