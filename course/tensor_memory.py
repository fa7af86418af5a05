"""Measured memory of real training steps (chapter 3's ground truth).

:func:`measure_training_tensors` sums the byte sizes of the real tensors of
one training step on a small batch (parameters, gradients, optimizer state,
layer outputs, the input); :func:`checkpointed_gradients` shows that
recomputation (``keras.remat``) gives the same gradients;
:func:`measure_peak_training_memory` reads the peak memory of a real training
step on a GPU (``None`` on a CPU).  Models come from
:func:`course.ch03.build_model`.
"""

from __future__ import annotations

from collections.abc import Callable


def make_optimizer(name: str):
    """A Keras optimizer by chapter name (``"momentum"`` is SGD with momentum 0.9)."""
    import keras

    makers = {"sgd": lambda: keras.optimizers.SGD(),
              "momentum": lambda: keras.optimizers.SGD(momentum=0.9),
              "rmsprop": lambda: keras.optimizers.RMSprop(),
              "adam": lambda: keras.optimizers.Adam()}
    if name not in makers:
        raise ValueError(f"unknown optimizer {name!r}; choose one of {tuple(makers)}")
    return makers[name]()


def _nbytes(tensor) -> int:
    import keras

    return int(keras.ops.convert_to_numpy(tensor).nbytes)


def _dtype_name(tensor) -> str:
    import keras

    return str(keras.ops.convert_to_numpy(tensor).dtype)


def _gradients(forward: Callable, variables: list, x) -> list:
    """Gradients of ``mean(forward(x)**2)`` with respect to ``variables``, on the active backend."""
    import keras

    def loss_of(out):
        out = keras.ops.cast(out, "float32")
        return keras.ops.mean(keras.ops.square(out))

    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        with tf.GradientTape() as tape:
            loss = loss_of(forward(x))
        return tape.gradient(loss, [v.value for v in variables])
    if backend == "torch":
        import torch

        loss = loss_of(forward(keras.ops.convert_to_tensor(x)))
        return list(torch.autograd.grad(loss, [v.value for v in variables]))
    if backend == "jax":
        import jax

        def loss_fn(values):
            with keras.StatelessScope(state_mapping=list(zip(variables, values))):
                return loss_of(forward(x))

        return jax.grad(loss_fn)([v.value for v in variables])
    raise NotImplementedError(f"gradients are not measured on the {backend} backend")


def measure_training_tensors(model, batch_size: int, optimizer: str = "adam", seed: int = 0) -> dict:
    """Byte sizes of the real tensors of one training step of ``model`` on a random batch.

    Returns a dict with, in bytes: ``params`` (the model's variables), ``gradients`` (real
    gradients of a loss), ``optimizer_state`` (the optimizer's per-parameter variables, built by
    Keras for this model), ``optimizer_scalars`` (its other variables: iteration counter,
    learning rate), ``activations`` (every layer's real output for the batch, except
    ``Flatten`` whose output is a reshaped view of its input), ``reshapes`` (those ``Flatten``
    outputs), ``inputs`` (the batch) and ``dtypes`` (numpy dtype names of each kind).
    Keep the model and batch small: every tensor is really allocated.
    """
    import keras
    import numpy as np

    shape = tuple(int(d) for d in model.inputs[0].shape[1:])
    rng = np.random.default_rng(seed)
    x = keras.ops.convert_to_tensor(rng.random((batch_size, *shape), dtype=np.float32),
                                    dtype=model.inputs[0].dtype)
    every = keras.Model(model.inputs, [layer.output for layer in model.layers])
    outputs = every(x)
    if not isinstance(outputs, (list, tuple)):  # a one-layer model returns a bare tensor
        outputs = [outputs]
    kinds = [type(layer).__name__ for layer in model.layers]
    variables = list(model.trainable_variables)
    grads = _gradients(model, variables, x)
    opt = make_optimizer(optimizer)
    opt.build(variables)
    slots = [v for v in opt.variables if len(v.shape) > 0]
    scalars = [v for v in opt.variables if len(v.shape) == 0]
    return {
        "params": sum(_nbytes(v.value) for v in variables),
        "gradients": sum(_nbytes(g) for g in grads),
        "optimizer_state": sum(_nbytes(v.value) for v in slots),
        "optimizer_scalars": sum(_nbytes(v.value) for v in scalars),
        "activations": sum(_nbytes(o) for o, k in zip(outputs, kinds) if k != "Flatten"),
        "reshapes": sum(_nbytes(o) for o, k in zip(outputs, kinds) if k == "Flatten"),
        "inputs": _nbytes(x),
        "dtypes": {"params": sorted({_dtype_name(v.value) for v in variables}),
                   "gradients": sorted({_dtype_name(g) for g in grads}),
                   "optimizer_state": sorted({_dtype_name(v.value) for v in slots}),
                   "activations": sorted({_dtype_name(o) for o in outputs}),
                   "inputs": [_dtype_name(x)]},
    }


def checkpointed_gradients(model, batch_size: int, segment: int, seed: int = 0) -> dict:
    """Gradients of one loss computed twice: normally, and with every ``segment`` consecutive
    layers wrapped in ``keras.remat`` (recomputed during backpropagation instead of stored).

    Returns ``max_abs_diff`` (largest difference between the two sets of gradients),
    ``calls_plain`` and ``calls_remat`` (how many times each layer ran its forward pass).
    """
    import keras
    import numpy as np

    shape = tuple(int(d) for d in model.inputs[0].shape[1:])
    x = keras.ops.convert_to_tensor(
        np.random.default_rng(seed).random((batch_size, *shape), dtype=np.float32),
        dtype=model.inputs[0].dtype)
    layers = list(model.layers)
    calls = [0] * len(layers)

    def counted(i):
        def run(t):
            calls[i] += 1
            return layers[i](t)
        return run

    def chain(start, stop):
        def run(t):
            for i in range(start, stop):
                t = counted(i)(t)
            return t
        return run

    variables = list(model.trainable_variables)
    plain = _gradients(chain(0, len(layers)), variables, x)
    calls_plain = list(calls)
    calls[:] = [0] * len(layers)
    segments = [keras.remat(chain(i, min(i + segment, len(layers))))
                for i in range(0, len(layers), segment)]

    def remat_forward(t):
        for run in segments:
            t = run(t)
        return t

    remat = _gradients(remat_forward, variables, x)
    diff = max(float(np.max(np.abs(keras.ops.convert_to_numpy(a).astype(np.float64)
                                   - keras.ops.convert_to_numpy(b).astype(np.float64))))
               for a, b in zip(plain, remat))
    return {"max_abs_diff": diff, "calls_plain": calls_plain, "calls_remat": list(calls),
            "layers": [layer.name for layer in layers]}


def measure_peak_training_memory(model, batch) -> int | None:
    """Peak GPU memory (bytes) of one training step of a compiled ``model`` on ``batch = (x, y)``.

    Runs one warm-up step (builds the optimizer, traces the step), then a measured step:
    peak during the step - memory in use before it + the model's own resident variables
    (weights and optimizer state), so that other models alive in the process do not count.
    TensorFlow: ``tf.config.experimental.reset_memory_stats`` / ``get_memory_info('GPU:0')``;
    torch: ``torch.cuda.reset_peak_memory_stats`` / ``max_memory_allocated``.
    Returns ``None`` without a GPU, or on a backend without a peak counter (JAX, numpy).
    """
    import keras

    x, y = batch
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        if not tf.config.list_physical_devices("GPU"):
            return None
        model.train_on_batch(x, y)
        before = tf.config.experimental.get_memory_info("GPU:0")["current"]
        tf.config.experimental.reset_memory_stats("GPU:0")
        model.train_on_batch(x, y)
        peak = tf.config.experimental.get_memory_info("GPU:0")["peak"]
    elif backend == "torch":
        import torch

        if not torch.cuda.is_available():
            return None
        model.train_on_batch(x, y)
        torch.cuda.synchronize()
        before = torch.cuda.memory_allocated()
        torch.cuda.reset_peak_memory_stats()
        model.train_on_batch(x, y)
        torch.cuda.synchronize()
        peak = torch.cuda.max_memory_allocated()
    else:
        return None
    resident = sum(_nbytes(v.value) for v in model.variables)
    resident += sum(_nbytes(v.value) for v in model.optimizer.variables)
    return int(peak - before + resident)
