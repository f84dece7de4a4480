// XLTT with XLM-R large (paper Tables 4, 5): SQuAD v1.1 + CMRC2018 + DRCD, each with an English
// pivot and ja/ko translations, TF-IDF task-similarity sampling and loss weights, MAA, the
// auxiliary transposition loss, AdamW 4e-5 with cosine decay, English dev F1 for selection.
// Paths: see xltt_common.libsonnet (XLTT_DATA; XLTT_ENCODER overrides the encoder).
local common = import 'xltt_common.libsonnet';
common.memory(common.xltt(common.env('XLTT_ENCODER', 'xlm-roberta-large')))
