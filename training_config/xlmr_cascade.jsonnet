// One stage of the Table 8 baseline "XLM-R (w/ SQuAD, CMRC2018, DRCD)", trained "in cascading
// way" (§5.6): SQuAD v1.1, then CMRC2018, then DRCD (their English versions), each stage
// starting from the previous stage's weights. `scripts/run_cascade.sh OUT` runs the chain.
//   XLTT_CASCADE_STAGE  squad (default) | cmrc2018 | drcd: the source this stage trains on
//   XLTT_INIT_WEIGHTS   the previous stage's model.tar.gz (or a .th state dict); required
//                       after the first stage
//   XLTT_LANGS          languages of the stage's files, default "en"; "en,ja,ko" adds the
//                       ja/ko translations as plain instances
// Each stage uses XTREME's recipe (xlmr_squad.jsonnet is the first stage) with the warm-up
// scaled to the stage: XTREME warms up over 500 of ~8,300 SQuAD steps (6 %); 6 % of a
// CMRC2018 stage (~10.3k questions, ~970 steps of 32) is 60, of a DRCD one (~26.9k, ~2,520) 150.
local common = import 'xltt_common.libsonnet';
local stage = common.env('XLTT_CASCADE_STAGE', 'squad');
local init = common.env('XLTT_INIT_WEIGHTS', '');
local languages = common.languages('en');
assert std.member(common.source_names, stage) :
       'XLTT_CASCADE_STAGE must be one of %s, not %s' % [common.source_names, stage];
assert stage == common.source_names[0] || init != '' :
       'XLTT_CASCADE_STAGE=%s continues a cascade: set XLTT_INIT_WEIGHTS to the previous stage\'s model.tar.gz' % stage;
local warmup = { squad: 500, cmrc2018: 60, drcd: 150 };
local trainer = common.xtreme_trainer() { learning_rate_scheduler+: { warmup_steps: warmup[stage] } };
common.memory(common.baseline(
  common.env('XLTT_ENCODER', 'xlm-roberta-large'), [stage], languages, trainer=trainer, init_weights=init
))
