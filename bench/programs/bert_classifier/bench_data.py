# Copyright 2026 speclint authors. Apache-2.0 (as the BERT files next to it).
"""speclint-bench: synthetic inputs for run_classifier.py (CoLA-format TSVs, a vocabulary) and
run_pretraining.py (a TFRecord of pre-training features), and a tiny BERT config. No downloads,
no pretrained weights: everything is generated from a fixed seed."""
import json
import os
import random

WORDS = ["the", "cat", "dog", "sat", "on", "mat", "a", "ran", "fast", "slow", "big", "small",
         "red", "blue", "house", "tree", "saw", "and", "it", "was"]
VOCAB = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + WORDS


def setup(tmp):
    data = os.path.join(tmp, "data")
    os.makedirs(data, exist_ok=True)
    rng = random.Random(0)

    def sentence():
        return " ".join(rng.choice(WORDS) for _ in range(rng.randint(3, 10)))

    with open(os.path.join(data, "vocab.txt"), "w") as f:
        f.write("\n".join(VOCAB) + "\n")
    with open(os.path.join(data, "bert_config.json"), "w") as f:
        json.dump(dict(vocab_size=len(VOCAB), hidden_size=32, num_hidden_layers=2,
                       num_attention_heads=2, intermediate_size=64, hidden_act="gelu",
                       hidden_dropout_prob=0.1, attention_probs_dropout_prob=0.1,
                       max_position_embeddings=64, type_vocab_size=2, initializer_range=0.02), f)
    for name, n in (("train.tsv", 16), ("dev.tsv", 8)):  # CoLA: id, label, *, sentence
        with open(os.path.join(data, name), "w") as f:
            for i in range(n):
                f.write(f"src{i}\t{rng.randint(0, 1)}\t*\t{sentence()}\n")
    with open(os.path.join(data, "test.tsv"), "w") as f:
        f.write("index\tsentence\n")
        for i in range(8):
            f.write(f"{i}\t{sentence()}\n")
    _pretraining_records(os.path.join(data, "pretrain.tfrecord"), rng, seq=16, preds=3, n=32)


def _pretraining_records(path, rng, seq, preds, n):
    import tensorflow.compat.v1 as tf

    def ints(values):
        return tf.train.Feature(int64_list=tf.train.Int64List(value=list(values)))

    def floats(values):
        return tf.train.Feature(float_list=tf.train.FloatList(value=list(values)))

    with tf.io.TFRecordWriter(path) as writer:
        for _ in range(n):
            length = rng.randint(6, seq)
            ids = [rng.randrange(5, len(VOCAB)) for _ in range(length)] + [0] * (seq - length)
            mask = [1] * length + [0] * (seq - length)
            positions = sorted(rng.sample(range(1, length), preds))
            feats = dict(
                input_ids=ints(ids), input_mask=ints(mask), segment_ids=ints([0] * seq),
                masked_lm_positions=ints(positions),
                masked_lm_ids=ints(ids[p] for p in positions),
                masked_lm_weights=floats([1.0] * preds),
                next_sentence_labels=ints([rng.randint(0, 1)]))
            writer.write(tf.train.Example(features=tf.train.Features(feature=feats)).SerializeToString())
