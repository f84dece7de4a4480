// XLTT with multilingual BERT (paper Table 5): the same experiment as xltt_xlmr.jsonnet.
local common = import 'xltt_common.libsonnet';
common.memory(common.xltt(common.env('XLTT_ENCODER', 'bert-base-multilingual-cased')))
