"""Run TPUEstimator(use_tpu=True) on a CPU-only machine, the way TensorFlow's own
tpu_estimator_test.py does: the TPU system query reports 8 cores, so the real TPU code path
builds its whole graph (replicated computation, infeed/outfeed, host calls, scaffold).  Errors TF
raises while building that graph are exactly the ones a TPU user sees; nothing here changes them.
"""
from tensorflow.python.tpu import tpu_system_metadata


def install(num_cores=8):
    def query(master_address, cluster_def=None, query_topology=False):
        del master_address, cluster_def, query_topology
        return tpu_system_metadata.TPUSystemMetadata(
            num_cores=num_cores, num_hosts=1, num_of_cores_per_host=num_cores, topology=None,
            devices=[])

    tpu_system_metadata._query_tpu_system_metadata = query
