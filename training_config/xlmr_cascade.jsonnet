// Baseline of paper Table 8: XLM-R large on SQuAD v1.1 + CMRC2018 + DRCD in their original
// languages, mixed uniformly in one run (see README "Departures": the paper's "cascade").
local common = import 'xltt_common.libsonnet';
common.memory(common.baseline(common.env('XLTT_ENCODER', 'xlm-roberta-large'), ['squad', 'cmrc2018', 'drcd']))
