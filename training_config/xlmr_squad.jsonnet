// Baseline of paper Table 8: XLM-R large fine-tuned on SQuAD v1.1 only (no MAA, no auxiliary
// loss; the plain span head over the encoder's states).
local common = import 'xltt_common.libsonnet';
common.memory(common.baseline(common.env('XLTT_ENCODER', 'xlm-roberta-large'), ['squad']))
