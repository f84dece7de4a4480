// Shared pieces of the paper configs (xltt_xlmr, xltt_mbert, xlmr_squad, mbert_squad,
// xlmr_cascade, xlmr_translate_train).
//
// Data paths come from std.extVar with documented defaults (see README "Configs"): the plugin
// sets each XLTT_* variable to "" (meaning "the default below") when it is not in the
// environment. Under $XLTT_DATA the published file names are expected:
//   squad/train-v1.1.json, squad/dev-v1.1.json (SQuAD v1.1, English)
//   squad/train-v1.1.{ja,ko}.json               (its translations, e.g. by `allennlp xltt-translate`)
//   cmrc2018/cmrc2018_train.{en,ja,ko}.json     (CMRC2018 translated from zh; §4.1 discards zh)
//   drcd/DRCD_training.{en,ja,ko}.json          (DRCD translated from zh-Hant)
//   mlqa/dev/dev-context-en-question-en.json    (model selection: MLQA English dev)
//   mlqa/test/test-context-en-question-en.json  (TF-IDF target: MLQA English test questions)
{
  env(name, default):: local value = std.extVar(name); if value == '' then default else value,
  data:: std.extVar('XLTT_DATA') + '/',

  // Each source: its English pivot and its translations. The Chinese originals of CMRC2018 and
  // DRCD are not trained on (§4.1: "discard the Chinese instances due to MLQA and XQuAD
  // including Chinese"); every system here trains on the English (and ja/ko) versions.
  source_names:: ['squad', 'cmrc2018', 'drcd'],
  // `pattern` % LANG names a translation (`allennlp xltt-translate --target-lang LANG`).
  local source(pivot, pattern) = {
    pivot: pivot,
    pattern: pattern,
    translations: { ja: pattern % 'ja', ko: pattern % 'ko' },
  },
  sources:: {
    squad: source('squad/train-v1.1.json', 'squad/train-v1.1.%s.json'),
    cmrc2018: source('cmrc2018/cmrc2018_train.en.json', 'cmrc2018/cmrc2018_train.%s.json'),
    drcd: source('drcd/DRCD_training.en.json', 'drcd/DRCD_training.%s.json'),
  },
  // A source's file in one language ('en' = the pivot).
  source_file(name, lang):: if lang == 'en' then $.sources[name].pivot else $.sources[name].pattern % lang,
  // XLTT_LANGS: the languages of the plain-instance baselines' files (translate-train, cascade).
  languages(default):: std.split($.env('XLTT_LANGS', default), ','),
  similarity_target:: 'mlqa/test/test-context-en-question-en.json',

  // ---- Experiment options (environment variables; README "Configs") ----------------------
  // XLTT_DEV: the model-selection file under $XLTT_DATA. MLQA's English dev set by default:
  // SQuAD v1.1 dev (`squad/dev-v1.1.json`, the other documented choice) holds XQuAD's English
  // paragraphs, so selecting on it sees a test set.
  english_dev:: $.env('XLTT_DEV', 'mlqa/dev/dev-context-en-question-en.json'),
  // XLTT_WITHOUT: comma-separated sources left out (paper Table 7), e.g. "cmrc2018,drcd".
  without:: [name for name in std.split($.env('XLTT_WITHOUT', ''), ',') if name != ''],
  // XLTT_WEIGHTS_IN: where the TF-IDF data-set weights act (see README "Departures"):
  //   'loss'    eq. 22 as written: weighted loss, sources sampled equally (the paper configs);
  //   'sampler' sources sampled in proportion to their weights, unweighted loss (the same
  //             objective as 'loss' in expectation);
  //   'both'    both at once: a source counts about w^2 times.
  weights_in:: $.env('XLTT_WEIGHTS_IN', 'loss'),

  // The sources a run trains on: `names` less XLTT_WITHOUT.
  used_sources(names=$.source_names):: (
    local unknown = [name for name in $.without if !std.member($.source_names, name)];
    local kept = [name for name in names if !std.member($.without, name)];
    assert unknown == [] : 'XLTT_WITHOUT: unknown source(s) %s; the sources are %s' % [unknown, $.source_names];
    assert kept != [] : 'XLTT_WITHOUT=%s leaves no source to train on' % std.join(',', $.without);
    kept
  ),

  windows(encoder):: {
    transformer_model_name: encoder,
    length_limit: 384,
    stride: 128,
    max_query_length: 64,
  },

  // A parallel (pivot + translations) reader for one source, tagged with its task name.
  parallel_reader(encoder, name, source, data):: $.windows(encoder) {
    type: 'xltt_parallel',
    language: 'en',
    dataset_name: name,
    parallel_languages: std.objectFields(source.translations),
    parallel_files: { [lang]: data + source.translations[lang] for lang in std.objectFields(source.translations) },
  },

  // TF-IDF task weights of the sources against the target questions (eq. 18-19).
  task_weights(names, data, temperature=1.0):: {
    target_path: data + $.similarity_target,
    source_paths: { [name]: data + $.sources[name].pivot for name in names },
    temperature: temperature,
  },

  // The multi-source loader. `xltt_multitask` (not AllenNLP's `multitask`, whose len()
  // over-counts with instances_per_epoch) so that per-batch schedules span the real run.
  loader(batch_size, sampler=null, instances_per_epoch=null):: {
    type: 'xltt_multitask',
    scheduler: { type: 'homogeneous_roundrobin', batch_size: batch_size },
  } + (if sampler == null then {} else { sampler: sampler, instances_per_epoch: instances_per_epoch }),

  // The data loader and the model's `dataset_weights` for XLTT_WEIGHTS_IN = `weights_in`.
  weighting(weights, weights_in, batch_size, instances_per_epoch):: (
    assert std.member(['loss', 'sampler', 'both'], weights_in) :
           "XLTT_WEIGHTS_IN must be 'loss', 'sampler' or 'both', not '%s'" % weights_in;
    local similarity = { type: 'task_similarity', task_weights: weights };
    {
      data_loader: $.loader(
        batch_size,
        if weights_in == 'loss' then { type: 'uniform' } else similarity,
        instances_per_epoch
      ),
      dataset_weights: if weights_in == 'sampler' then null else weights,
    }
  ),

  // English dev set for model selection, scored with the language-aware metric.
  validation(encoder, data):: {
    validation_dataset_reader: $.windows(encoder) { type: 'xltt_squad', language: 'en' },
    validation_data_path: data + $.english_dev,
    validation_data_loader: { batch_size: 32, shuffle: false },
    // `allennlp evaluate` with the test mode checked and written into the metrics (README
    // "Test modes"); kept in the archive's config, so no --overrides is needed for it.
    evaluation: { type: 'xltt' },
  },

  // XLTT_MAA: the MAA layer of `xltt_*` (docs/model.md "Options of the MAA layer").
  // `paper` (default): eq. 10 as printed, Â_SM = A_S A_SM A_M^T, whose slot attention is uniform
  // on a real encoder; `cross`: plain scaled cross attention (Â_SM = τ A_SM, eq. 8 into eq. 12)
  // with a learned temperature from τ = 20, the option chosen on the XQuAD development articles
  // (protocol e5-dev-maa, benchmarks/RESULTS.md "MAA options").
  maa_presets:: {
    paper: { num_heads: 1, dropout: 0.1 },
    cross: self.paper { adaptive_sides: 'none', score_scale: 20, learn_score_scale: true },
  },
  maa_option():: (
    local name = $.env('XLTT_MAA', 'paper');
    assert std.objectHas($.maa_presets, name) : 'XLTT_MAA=%s: not one of %s' % [name, std.join(', ', std.objectFields($.maa_presets))];
    $.maa_presets[name]
  ),

  // GPU memory knobs (README "GPU: mixed precision, memory, the GPU check"), applied to a whole
  // experiment by every paper config:
  // XLTT_AMP=1: AllenNLP's use_amp (float16 autocast + gradient scaling; needs a GPU);
  // XLTT_GRAD_CKPT=1: recompute the encoder's layers in backward (transformer_kwargs);
  // XLTT_GRAD_ACCUM=n: n micro-batches of batch_size / n per optimizer step (same effective batch).
  memory(config):: (
    local accum = std.parseInt($.env('XLTT_GRAD_ACCUM', '1'));
    local batch = config.data_loader.scheduler.batch_size;
    assert accum >= 1 && batch % accum == 0 : 'XLTT_GRAD_ACCUM=%d must divide the batch size %d' % [accum, batch];
    config {
      data_loader+: { scheduler+: { batch_size: std.floor(batch / accum) } },
      model+: if $.env('XLTT_GRAD_CKPT', '0') == '1' then { transformer_kwargs+: { gradient_checkpointing: true } } else {},
      trainer+: { use_amp: $.env('XLTT_AMP', '0') == '1', num_gradient_accumulation_steps: accum },
    }
  ),

  // §5.1: AdamW, lr 4e-5, cosine decay, weight decay; English dev F1 selects the model.
  trainer(num_epochs=3, lr=4e-5):: {
    num_epochs: num_epochs,
    cuda_device: std.parseInt($.env('XLTT_CUDA_DEVICE', '0')),
    grad_norm: 1.0,
    validation_metric: '+f1',
    // Keeps torch's RNG state in checkpoints: `--recover` matches an uninterrupted run.
    callbacks: [{ type: 'torch_rng_state' }],
    optimizer: {
      type: 'huggingface_adamw',
      lr: lr,
      weight_decay: 0.01,
      parameter_groups: [[['bias', 'LayerNorm\\.weight', 'layer_norm\\.weight'], { weight_decay: 0 }]],
    },
    learning_rate_scheduler: { type: 'cosine_decay', warmup_ratio: 0.1 },
  },

  // XTREME's SQuAD recipe (google-research/xtreme scripts/train_qa.sh + third_party/run_squad.py):
  // AdamW lr 3e-5, eps 1e-8, weight decay 1e-4 (none on bias/LayerNorm), 500 linear warm-up
  // steps then linear decay to 0, 3 epochs, batch 4 x 8 accumulation = 32, max_seq_length 384,
  // doc_stride 128, max_query_length 64, max_answer_length 30, gradient clipping 1.0.
  xtreme_trainer(num_epochs=3):: $.trainer(num_epochs=num_epochs, lr=3e-5) {
    optimizer+: { weight_decay: 0.0001, eps: 1e-8 },
    learning_rate_scheduler: { type: 'linear_with_warmup', warmup_steps: 500 },
  },

  // The plain span head over B_S (no MAA, no auxiliary loss): every baseline's model.
  plain_model(encoder):: {
    type: 'xltt',
    transformer_model_name: encoder,
    maa: null,
    aux_loss_weight: 0.0,
    max_answer_length: 30,
  },

  // Plain SQuAD-format readers, one task per (source, language) file.
  plain_tasks(encoder, names, languages, data):: {
    local task(name, lang) = if lang == 'en' then name else name + '_' + lang,
    readers: {
      [task(name, lang)]: $.windows(encoder) { type: 'xltt_squad', language: lang, dataset_name: task(name, lang) }
      for name in names
      for lang in languages
    },
    paths: { [task(name, lang)]: data + $.source_file(name, lang) for name in names for lang in languages },
  },

  // The full XLTT experiment over the given sources (less XLTT_WITHOUT).
  xltt(encoder, names=$.source_names, batch_size=16, instances_per_epoch=120000, weights_in=$.weights_in):: (
    local data = $.data;
    local used = $.used_sources(names);
    local weights = $.task_weights(used, data);
    local weighting = $.weighting(weights, weights_in, batch_size, instances_per_epoch);
    $.validation(encoder, data) {
      dataset_reader: {
        type: 'multitask',
        readers: { [name]: $.parallel_reader(encoder, name, $.sources[name], data) for name in used },
      },
      train_data_path: { [name]: data + $.sources[name].pivot for name in used },
      vocabulary: { type: 'empty' },
      data_loader: weighting.data_loader,
      model: {
        type: 'xltt',
        transformer_model_name: encoder,
        num_parallel: 2,
        maa: $.maa_option(),
        aux_loss_weight: 1.0,
        self_transposition_prob: 0.1,
        max_answer_length: 30,
        // The auxiliary loss L_R of a translation carries its source's weight too.
        dataset_weights: weighting.dataset_weights,
      },
      trainer: $.trainer(),
    }
  ),

  // Baselines (Tables 4, 5, 8): the plain span head on plain SQuAD-format instances of
  // `names` in `languages`, every instance once per epoch, no data-set weights.
  baseline(encoder, names, languages=['en'], trainer=$.xtreme_trainer(), batch_size=32, init_weights=''):: (
    local data = $.data;
    local tasks = $.plain_tasks(encoder, names, languages, data);
    $.validation(encoder, data) {
      dataset_reader: { type: 'multitask', readers: tasks.readers },
      train_data_path: tasks.paths,
      vocabulary: { type: 'empty' },
      data_loader: $.loader(batch_size),
      model: $.plain_model(encoder) + (
        if init_weights == '' then {} else {
          // Start from a previous run's weights (a model.tar.gz or a .th state dict).
          initializer: { regexes: [['.*', { type: 'pretrained', weights_file_path: init_weights, parameter_name_overrides: {} }]] },
        }
      ),
      trainer: trainer,
    }
  ),

  // Translate-train: the pivots and their translations (XLTT_LANGS, default en,ja,ko: the
  // files XLTT trains on) of the sources (less XLTT_WITHOUT) mixed as plain instances, no MAA,
  // no auxiliary loss, XLTT's §5.1 trainer.
  translate_train(encoder, names=$.source_names, batch_size=16):: $.baseline(
    encoder, $.used_sources(names), $.languages('en,ja,ko'), trainer=$.trainer(), batch_size=batch_size
  ),
}
