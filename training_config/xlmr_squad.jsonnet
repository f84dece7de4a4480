// Baseline of paper Tables 4 and 8, "XLM-R (w/ SQuAD)": XLM-R large fine-tuned on SQuAD v1.1
// only with XTREME's recipe (its 72.3 / 76.6 F1 come from XTREME; see xltt_common.libsonnet
// `xtreme_trainer` and README "Configs" for where this differs), the plain span head (no MAA,
// no auxiliary loss).
local common = import 'xltt_common.libsonnet';
common.memory(common.baseline(common.env('XLTT_ENCODER', 'xlm-roberta-large'), ['squad']))
