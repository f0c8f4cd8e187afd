import keras

from keras_nlpkit.api_export import nlpkit_export


@nlpkit_export("keras_nlpkit.layers.Highway")
class Highway(keras.layers.Layer):
    """One highway layer: a learnt gate between a transform of x and x itself.

    y = t ⊙ g(W_H x + b_H) + (1 − t) ⊙ x, with the transform gate
    t = σ(W_T x + b_T). `b_T` starts negative (`transform_bias`, −2: t ≈ 0.12), so a
    new layer mostly carries x through and a deep stack trains as a shallow one
    would (Srivastava et al., 2015). Character-level word encoders (Kim et al.,
    2016) and ELMo's token encoder put two of these after their CNN. Keras has no
    highway layer; stack instances for several.

    Args:
        activation: g; `"relu"`.
        transform_bias: the initial value of b_T (negative: start near the identity).
        kernel_initializer, bias_initializer: of W_H, W_T and b_H.
        **kwargs: `keras.layers.Layer` arguments.

    Call arguments:
        inputs: `(..., features)`; the output has the same shape.

    Example:
    ```python
    import numpy as np
    import keras_nlpkit

    words = np.random.rand(2, 5, 32).astype("float32")
    y = keras_nlpkit.layers.Highway()(keras_nlpkit.layers.Highway()(words))  # (2, 5, 32)
    ```

    References:
        - [Srivastava et al., 2015](https://arxiv.org/abs/1505.00387)
    """

    def __init__(
        self,
        activation="relu",
        transform_bias=-2.0,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.activation = keras.activations.get(activation)
        self.transform_bias = float(transform_bias)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.bias_initializer = keras.initializers.get(bias_initializer)
        self.supports_masking = True

    def build(self, inputs_shape):
        features = inputs_shape[-1]
        if features is None:
            raise ValueError(
                f"`Highway` needs a known last dimension. Received: inputs_shape={inputs_shape}"
            )
        self.transform = keras.layers.Dense(
            features,
            activation=self.activation,
            kernel_initializer=self.kernel_initializer,
            bias_initializer=self.bias_initializer,
            dtype=self.dtype_policy,
            name="transform",
        )
        self.gate = keras.layers.Dense(
            features,
            activation="sigmoid",
            kernel_initializer=self.kernel_initializer,
            bias_initializer=keras.initializers.Constant(self.transform_bias),
            dtype=self.dtype_policy,
            name="gate",
        )
        self.transform.build(inputs_shape)
        self.gate.build(inputs_shape)
        self.built = True

    def call(self, inputs):
        t = self.gate(inputs)
        return t * self.transform(inputs) + (1.0 - t) * inputs

    def compute_output_shape(self, inputs_shape):
        return inputs_shape

    def get_config(self):
        config = super().get_config()
        config.update(
            activation=keras.activations.serialize(self.activation),
            transform_bias=self.transform_bias,
            kernel_initializer=keras.initializers.serialize(self.kernel_initializer),
            bias_initializer=keras.initializers.serialize(self.bias_initializer),
        )
        return config
