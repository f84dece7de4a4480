// Baseline of paper Tables 4 and 5, zero-shot "Multi-BERT": multilingual BERT fine-tuned on
// SQuAD v1.1 only with XTREME's recipe, the plain span head (no MAA, no auxiliary loss).
local common = import 'xltt_common.libsonnet';
common.memory(common.baseline(common.env('XLTT_ENCODER', 'bert-base-multilingual-cased'), ['squad']))
