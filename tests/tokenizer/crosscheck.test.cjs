// The worker's tokenizer.json support against Hugging Face's own JavaScript
// implementation (@huggingface/tokenizers, from the npm registry): the same
// files, the same texts, the same ids. No real model's files exist on these
// machines, so the files are built here the way Hugging Face's trainer builds
// them: GPT-2's byte table, merges learned from a corpus by pair frequency,
// and the pre-tokenizers, added tokens and templates of GPT-2, Llama 3 and
// digit-splitting models.
'use strict';
const { test } = require('node:test');
const assert = require('node:assert');
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const { Tokenizer } = require(process.env.HF_TOKENIZERS);
const worker = path.join(process.env.GAUNTLET_BIN_DIR, 'gauntlet-worker');
const scratch = fs.mkdtempSync(path.join(process.env.GAUNTLET_TEST_TMP, 'tokenizer-crosscheck-'));

// The patterns the public tokenizer.json files carry.
const GPT2_PATTERN = /'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+/gu;
const LLAMA3_PATTERN =
  "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

// GPT-2's printable stand-in for each byte.
function byteSymbols() {
  const printable = [];
  for (let b = 33; b <= 126; b++) printable.push(b);
  for (let b = 161; b <= 172; b++) printable.push(b);
  for (let b = 174; b <= 255; b++) printable.push(b);
  const symbols = new Array(256);
  for (const b of printable) symbols[b] = String.fromCodePoint(b);
  let next = 256;
  for (let b = 0; b < 256; b++) if (symbols[b] === undefined) symbols[b] = String.fromCodePoint(next++);
  return symbols;
}
const SYMBOLS = byteSymbols();
const toSymbols = (text) => [...Buffer.from(text, 'utf8')].map((b) => SYMBOLS[b]);

const CORPUS = `
The quick brown fox jumps over the lazy dog. The dog didn't mind; it's the fox's job.
We're testing the tokenizer: they'll compare ids, and I'd say it's done when they're equal.
Inference on accelerators: compile, run, compare logits, benchmark TTFT and ITL every night.
for (int i = 0; i < 1024; ++i) { sum += x[i] * w[i]; }  // 2048 tokens, 32768 context
def main():\n    print("hello world")\n    return 42\n
Ünïcödé façade naïve café — déjà vu; 東京 大阪 日本語のテキスト; emoji 🚀🔥 ok.
Numbers: 1, 12, 123, 1234, 12345, 3.14159, 2026-11-23, 0x1F.
   leading spaces, trailing spaces   , tabs\tand\ttabs, new\nlines\n\n\nmany.
`.repeat(3);

// Byte-pair merges in Hugging Face's order: the most frequent adjacent pair
// first, ties to the pair that sorts first.
function learnMerges(corpus, count) {
  const words = new Map();
  for (const piece of corpus.match(GPT2_PATTERN)) {
    const key = toSymbols(piece).join('\u0000');
    words.set(key, (words.get(key) || 0) + 1);
  }
  let split = [...words].map(([key, n]) => [key.split('\u0000'), n]);
  const merges = [];
  while (merges.length < count) {
    const pairs = new Map();
    for (const [symbols, n] of split) {
      for (let i = 0; i + 1 < symbols.length; i++) {
        const pair = symbols[i] + '\u0000' + symbols[i + 1];
        pairs.set(pair, (pairs.get(pair) || 0) + n);
      }
    }
    if (!pairs.size) break;
    const [best] = [...pairs].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))[0];
    const [left, right] = best.split('\u0000');
    merges.push([left, right]);
    split = split.map(([symbols, n]) => {
      const merged = [];
      for (let i = 0; i < symbols.length; i++) {
        if (i + 1 < symbols.length && symbols[i] === left && symbols[i + 1] === right) {
          merged.push(left + right);
          i++;
        } else {
          merged.push(symbols[i]);
        }
      }
      return [merged, n];
    });
  }
  return merges;
}

const MERGES = learnMerges(CORPUS, 400);
const VOCAB = {};
SYMBOLS.forEach((symbol, b) => { VOCAB[symbol] = b; });
for (const [left, right] of MERGES) if (!(left + right in VOCAB)) VOCAB[left + right] = Object.keys(VOCAB).length;

function addedToken(content, id, options = {}) {
  return { id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true, ...options };
}

// wholeWords: vocabulary entries no merge builds, which only a whole-word
// lookup (ignore_merges) finds, as in Llama 3's vocabulary.
function tokenizerJson({ preTokenizer, added = [], postProcessor = null, mergesAsPairs = true, ignoreMerges = false,
                         wholeWords = [] }) {
  const vocab = { ...VOCAB };
  for (const word of wholeWords) vocab[toSymbols(word).join('')] = Object.keys(vocab).length;
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: added,
    normalizer: null,
    pre_tokenizer: preTokenizer,
    post_processor: postProcessor,
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: {
      type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: null, end_of_word_suffix: null,
      fuse_unk: false, byte_fallback: false, ignore_merges: ignoreMerges, vocab,
      merges: mergesAsPairs ? MERGES : MERGES.map(([a, b]) => `${a} ${b}`),
    },
  };
}

const base = Object.keys(VOCAB).length + 2;  // after the whole words
const byteLevel = (options) => ({ type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true, ...options });
const bos = { id: '<|begin_of_text|>', type_id: 0 };
const FILES = {
  // GPT-2: the ByteLevel pre-tokenizer's own regex, one special token.
  gpt2: tokenizerJson({
    preTokenizer: byteLevel(),
    added: [addedToken('<|endoftext|>', base)],
    postProcessor: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: false, use_regex: true },
    mergesAsPairs: false,
  }),
  // Llama 3: Split on its pattern, ByteLevel without a regex, whole words
  // looked up before merging, and a BOS template.
  llama3: tokenizerJson({
    preTokenizer: {
      type: 'Sequence',
      pretokenizers: [
        { type: 'Split', pattern: { Regex: LLAMA3_PATTERN }, behavior: 'Isolated', invert: false },
        byteLevel({ use_regex: false }),
      ],
    },
    added: [addedToken('<|begin_of_text|>', base), addedToken('<|end_of_text|>', base + 1),
            addedToken('<|eot_id|>', base + 2)],
    postProcessor: {
      type: 'Sequence',
      processors: [
        byteLevel({ trim_offsets: false }),
        {
          type: 'TemplateProcessing',
          single: [{ SpecialToken: bos }, { Sequence: { id: 'A', type_id: 0 } }],
          pair: [{ SpecialToken: bos }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { ...bos, type_id: 1 } },
                 { Sequence: { id: 'B', type_id: 1 } }],
          special_tokens: { '<|begin_of_text|>': { id: '<|begin_of_text|>', ids: [base], tokens: ['<|begin_of_text|>'] } },
        },
      ],
    },
    ignoreMerges: true,
    wholeWords: [' gauntlet', ' mizzenmast'],
  }),
  // Digits one by one before the byte-level regex, a prefix space, and added
  // tokens that swallow the whitespace beside them.
  digits: tokenizerJson({
    preTokenizer: { type: 'Sequence', pretokenizers: [{ type: 'Digits', individual_digits: true }, byteLevel({ add_prefix_space: true })] },
    added: [addedToken('<tool>', base, { lstrip: true, rstrip: true }), addedToken('</tool>', base + 1, { rstrip: true }),
            addedToken('<pad>', base + 2)],
  }),
};

const TEXTS = [
  'Hello world',
  'The quick brown fox jumps over the lazy dog.',
  "I'm sure they'll say we're done, but it's the fox's DON'T and WE'LL that matter",
  'Numbers 1 12 123 1234 12345 123456 3.14159 and 2026-11-23',
  '   three leading spaces and trailing   ',
  'tabs\tand\t\ttabs, new\nlines\n\n\nand\r\nwindows',
  'Ünïcödé façade naïve café — déjà vu',
  '東京 大阪 日本語のテキスト',
  'emoji 🚀🔥👍🏽 and ZWJ 👩‍💻',
  'for (int i = 0; i < 1024; ++i) { sum += x[i] * w[i]; }',
  'def main():\n    print("hello world")\n    return 42\n',
  '<|begin_of_text|>system<|eot_id|>user: hi<|end_of_text|>',
  'a <tool> call </tool> here <pad><pad> end',
  'x<tool>y</tool>z',
  '<|endoftext|>GPT-2 text<|endoftext|>',
  '',
  ' ',
  '\n',
  "''''''",
  'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa',
  'Inference on accelerators: compile, run, compare logits, benchmark TTFT and ITL every night.',
  'the gauntlet, the mizzenmast and the gauntlets',
];

for (const [name, file] of Object.entries(FILES)) {
  test(`${name}: the worker's ids and decoded text are Hugging Face's`, () => {
    const folder = path.join(scratch, name);
    fs.mkdirSync(folder);
    fs.writeFileSync(path.join(folder, 'tokenizer.json'), JSON.stringify(file));
    const textsPath = path.join(folder, 'texts.json');
    fs.writeFileSync(textsPath, JSON.stringify(TEXTS));
    const ours = JSON.parse(execFileSync(worker, ['tokenize', '--model', folder, '--texts', textsPath], { encoding: 'utf8' }));
    const reference = new Tokenizer(file, {});
    assert.strictEqual(ours.length, TEXTS.length);
    let merged = 0;
    TEXTS.forEach((text, i) => {
      const expected = reference.encode(text).ids;
      assert.deepStrictEqual(ours[i].ids, expected, `${name}: ${JSON.stringify(text)}`);
      // (The reference refuses to decode no ids at all.)
      const decoded = expected.length ? reference.decode(expected, { clean_up_tokenization_spaces: false }) : '';
      assert.strictEqual(ours[i].decoded, decoded, `${name}: decoding ${JSON.stringify(text)}`);
      merged += expected.filter((id) => id >= 256 && id < base - 2).length;
    });
    // The merges must take part, or the check says little.
    assert.ok(merged > 100, `${name}: only ${merged} merged tokens across the texts`);
  });
}
