// Shared pieces of the paper configs (xltt_xlmr, xltt_mbert, xlmr_squad, xlmr_cascade).
//
// Data paths come from std.extVar with documented defaults (see README "Configs"): the plugin
// sets XLTT_DATA=data and XLTT_ENCODER="" (meaning "the config's own encoder") when they are
// not in the environment. Under $XLTT_DATA the published file names are expected:
//   squad/train-v1.1.json, squad/dev-v1.1.json (SQuAD v1.1, English)
//   squad/train-v1.1.{ja,ko}.json               (its translations, e.g. by `allennlp xltt-translate`)
//   cmrc2018/cmrc2018_train.json (zh), cmrc2018/cmrc2018_train.{en,ja,ko}.json
//   drcd/DRCD_training.json (zh-Hant), drcd/DRCD_training.{en,ja,ko}.json
//   mlqa/test/test-context-en-question-en.json  (TF-IDF target: MLQA English test questions)
{
  env(name, default):: local value = std.extVar(name); if value == '' then default else value,
  data:: std.extVar('XLTT_DATA') + '/',

  // Each source: its pivot (English) file, its translations, and its original-language file.
  sources:: {
    squad: {
      pivot: 'squad/train-v1.1.json',
      translations: { ja: 'squad/train-v1.1.ja.json', ko: 'squad/train-v1.1.ko.json' },
      original: 'squad/train-v1.1.json',
    },
    cmrc2018: {
      pivot: 'cmrc2018/cmrc2018_train.en.json',
      translations: { ja: 'cmrc2018/cmrc2018_train.ja.json', ko: 'cmrc2018/cmrc2018_train.ko.json' },
      original: 'cmrc2018/cmrc2018_train.json',
    },
    drcd: {
      pivot: 'drcd/DRCD_training.en.json',
      translations: { ja: 'drcd/DRCD_training.ja.json', ko: 'drcd/DRCD_training.ko.json' },
      original: 'drcd/DRCD_training.json',
    },
  },
  original_language:: { squad: 'en', cmrc2018: 'zh', drcd: 'zh' },
  english_dev:: 'squad/dev-v1.1.json',
  similarity_target:: 'mlqa/test/test-context-en-question-en.json',

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

  // The English dev set for model selection, scored with the language-aware metric.
  validation(encoder, data):: {
    validation_dataset_reader: $.windows(encoder) { type: 'xltt_squad', language: 'en' },
    validation_data_path: data + $.english_dev,
    validation_data_loader: { batch_size: 32, shuffle: false },
  },

  // GPU memory knobs (README "GPU memory"), applied to a whole experiment by the paper configs:
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

  // The full XLTT experiment over the given sources.
  xltt(encoder, names=['squad', 'cmrc2018', 'drcd'], batch_size=16, instances_per_epoch=120000):: (
    local data = $.data;
    local weights = $.task_weights(names, data);
    $.validation(encoder, data) {
      dataset_reader: {
        type: 'multitask',
        readers: { [name]: $.parallel_reader(encoder, name, $.sources[name], data) for name in names },
      },
      train_data_path: { [name]: data + $.sources[name].pivot for name in names },
      vocabulary: { type: 'empty' },
      data_loader: {
        type: 'multitask',
        scheduler: { type: 'homogeneous_roundrobin', batch_size: batch_size },
        sampler: { type: 'task_similarity', task_weights: weights },
        instances_per_epoch: instances_per_epoch,
      },
      model: {
        type: 'xltt',
        transformer_model_name: encoder,
        num_parallel: 2,
        maa: { num_heads: 1, dropout: 0.1 },
        aux_loss_weight: 1.0,
        self_transposition_prob: 0.1,
        max_answer_length: 30,
        dataset_weights: weights,
      },
      trainer: $.trainer(),
    }
  ),

  // Table 8 baselines: the same span head over B_S (no MAA, no auxiliary loss) on the
  // original-language sources, mixed uniformly.
  baseline(encoder, names, batch_size=16):: (
    local data = $.data;
    $.validation(encoder, data) {
      dataset_reader: {
        type: 'multitask',
        readers: {
          [name]: $.windows(encoder) { type: 'xltt_squad', language: $.original_language[name], dataset_name: name }
          for name in names
        },
      },
      train_data_path: { [name]: data + $.sources[name].original for name in names },
      vocabulary: { type: 'empty' },
      data_loader: {
        type: 'multitask',
        scheduler: { type: 'homogeneous_roundrobin', batch_size: batch_size },
      },
      model: {
        type: 'xltt',
        transformer_model_name: encoder,
        maa: null,
        aux_loss_weight: 0.0,
        max_answer_length: 30,
      },
      trainer: $.trainer(),
    }
  ),
}
