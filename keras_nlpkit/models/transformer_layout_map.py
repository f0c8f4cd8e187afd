"""`transformer_layout_map`: how our Transformer backbones shard over a device mesh."""

import keras

from keras_nlpkit.api_export import nlpkit_export


@nlpkit_export("keras_nlpkit.models.transformer_layout_map")
def transformer_layout_map(
    device_mesh, model_parallel_dim_name="model", data_parallel_dim_name="batch"
):
    """A `keras.distribution.LayoutMap` for `BertBackbone`, `GPTBackbone` and their tasks.

    Megatron-LM's split (Shoeybi et al. 2019), in the shapes our blocks use: each
    device holds some attention heads (the query, key and value kernels
    `(hidden, heads, head_dim)` by heads; the output kernel `(heads, head_dim,
    hidden)` by heads), some columns of the first feed-forward kernel and the
    matching rows of the second, and some rows of the token embedding (also the
    tied output projection). A block then needs one all-reduce after attention and
    one after the feed-forward layer; layer norms, biases of the summed outputs and
    position embeddings are replicated. JAX splits only sizes that divide by the
    model axis (heads, intermediate_dim, vocabulary_size); `nlpkit train
    --distribution model` replicates a weight whose size does not. `BertBackbone.get_layout_map`
    and `GPTBackbone.get_layout_map` return it, as keras-hub's backbones do theirs.

    Example: a mesh of every device on the model axis (8 GPUs: 8-way model parallel);
    on JAX, `keras.distribution.set_distribution(keras.distribution.ModelParallel(
    layout_map=layout_map))` then creates the backbone's weights sharded.

    ```python
    import keras

    from keras_nlpkit.models import BertBackbone

    devices = keras.distribution.list_devices()
    mesh = keras.distribution.DeviceMesh((1, len(devices)), ("batch", "model"), devices)
    layout_map = BertBackbone.get_layout_map(mesh)
    layout_map["transformer_layer_0/self_attention/query/kernel"].axes  # (None, 'model', None)
    ```

    Args:
        device_mesh: a `keras.distribution.DeviceMesh` with both axes below.
        model_parallel_dim_name: the mesh axis the weights are split over.
        data_parallel_dim_name: the mesh axis the batch is split over.
    """
    if not isinstance(device_mesh, keras.distribution.DeviceMesh):
        raise ValueError(
            f"device_mesh must be a keras.distribution.DeviceMesh. Received: {device_mesh!r}"
        )
    for name in (model_parallel_dim_name, data_parallel_dim_name):
        if name not in device_mesh.axis_names:
            raise ValueError(
                f"{name!r} is not an axis of device_mesh. Received: axis_names="
                f"{device_mesh.axis_names}"
            )
    model = model_parallel_dim_name
    # Keys are regular expressions matched against whole variable paths.
    layout_map = keras.distribution.LayoutMap(device_mesh)
    layout_map[r".*token_embedding/embeddings"] = (model, None)
    layout_map[r".*attention/(query|key|value)/kernel"] = (None, model, None)
    layout_map[r".*attention/(query|key|value)/bias"] = (model, None)
    layout_map[r".*attention/attention_output/kernel"] = (model, None, None)
    layout_map[r".*feedforward_intermediate_dense/kernel"] = (None, model)
    layout_map[r".*feedforward_intermediate_dense/bias"] = (model,)
    layout_map[r".*feedforward_output_dense/kernel"] = (model, None)
    return layout_map
