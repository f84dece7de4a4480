// Translate-train baseline: XLM-R large on SQuAD v1.1 + CMRC2018 + DRCD, each English pivot and
// its ja/ko translations mixed as plain SQuAD-format instances (every instance once per epoch),
// the plain span head (no MAA, no auxiliary loss, no data-set weights), XLTT's §5.1 trainer.
// The same files as xltt_xlmr.jsonnet; XLTT_WITHOUT leaves sources out as there.
local common = import 'xltt_common.libsonnet';
common.memory(common.translate_train(common.env('XLTT_ENCODER', 'xlm-roberta-large')))
