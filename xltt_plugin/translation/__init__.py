"""
xltt_plugin.translation: translators, a translation cache, answer-span preservation and the
pipeline (`pipeline.translate_squad_file`) of `allennlp xltt-translate` (building the parallel
corpora, paper §4.1).
"""
