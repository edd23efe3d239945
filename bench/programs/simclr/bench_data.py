# coding=utf-8
# speclint-bench: not part of SimCLR. A stand-in for the `tensorflow_datasets` builder run.py uses
# (`tfds.builder(name, data_dir=...)`: `download_and_prepare()`, `info.splits[split].num_examples`,
# `info.features['label'].num_classes`, `as_dataset(split, shuffle_files, as_supervised)`):
# CIFAR-10-shaped uint8 images and int64 labels, seeded, generated in memory.
import types

import numpy as np
import tensorflow.compat.v1 as tf

_SPLITS = {"train": 64, "test": 16}
_NUM_CLASSES = 10


class SyntheticBuilder(object):

  def __init__(self, name, data_dir=None):
    del data_dir
    self.name = name
    self.info = types.SimpleNamespace(
        splits={k: types.SimpleNamespace(num_examples=n) for k, n in _SPLITS.items()},
        features={"label": types.SimpleNamespace(num_classes=_NUM_CLASSES)})

  def download_and_prepare(self):
    pass

  def as_dataset(self, split, shuffle_files=False, as_supervised=True):
    del shuffle_files, as_supervised
    rng = np.random.RandomState(0 if split == "train" else 1)
    n = _SPLITS[split]
    images = rng.randint(0, 256, size=(n, 32, 32, 3)).astype(np.uint8)
    labels = rng.randint(0, _NUM_CLASSES, size=(n,)).astype(np.int64)
    return tf.data.Dataset.from_tensor_slices((images, labels))
