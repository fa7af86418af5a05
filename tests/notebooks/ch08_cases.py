"""Known wrong answers, right variants and attacks on chapter 8, as solution-cell overrides."""

from tests.notebooks.grading_checks import variant
from tests.notebooks.grading_checks import wrong_answer_batches as _pack
from tests.notebooks.submissions import solved_sources

A = "ch08_segmentation"

# --- exercise 1: the metrics --------------------------------------------------------------

_METRICS = '''
def pixel_accuracy(pred, truth):
    pred, truth = np.asarray(pred), np.asarray(truth)
    return float(np.mean({acc_terms}))


def per_class_iou(pred, truth, n_classes):
    pred, truth = np.asarray(pred).ravel(), np.asarray(truth).ravel()
    iou = np.full(n_classes, {absent})
    for c in range(n_classes):
        p, t = pred == c, truth == c
        union = np.count_nonzero({union})
        if union:
            iou[c] = np.count_nonzero(p & t) / union
    return iou


def mean_iou(pred, truth, n_classes):
    return float({mean}(per_class_iou(pred, truth, n_classes)))
'''

_METRICS_RIGHT = {"acc_terms": "pred == truth", "absent": "np.nan", "union": "p | t", "mean": "np.nanmean"}

_metrics = variant(_METRICS, _METRICS_RIGHT)

METRICS_BY_CONFUSION = '''
def _confusion(pred, truth, n):
    pred, truth = np.asarray(pred).ravel().astype(int), np.asarray(truth).ravel().astype(int)
    return np.bincount(truth * n + pred, minlength=n * n).reshape(n, n)


def pixel_accuracy(pred, truth):
    return float((np.asarray(pred) == np.asarray(truth)).sum() / np.asarray(truth).size)


def per_class_iou(pred, truth, n_classes):
    cm = _confusion(pred, truth, n_classes)
    inter = np.diag(cm).astype(float)
    union = cm.sum(0) + cm.sum(1) - inter
    out = np.full(n_classes, np.nan)
    np.divide(inter, union, out=out, where=union > 0)
    return out


def mean_iou(pred, truth, n_classes):
    iou = per_class_iou(pred, truth, n_classes)
    return float(iou[~np.isnan(iou)].mean())
'''
"""Metrics from a confusion matrix (must score full marks)."""

# --- exercise 2: receptive field ------------------------------------------------------------

_FIELD = '''
def receptive_field(layers):
    field, jump = 1, 1
    for layer in layers:
        kernel, stride = layer[0], layer[1]
        dilation = {dilation}
        field += {step}
        jump *= stride
    return field, jump
'''

_FIELD_RIGHT = {"dilation": "layer[2] if len(layer) > 2 else 1", "step": "dilation * (kernel - 1) * jump"}

_field = variant(_FIELD, _FIELD_RIGHT)

# --- exercise 3: transposed convolution -----------------------------------------------------

_TCONV = '''
def conv_transpose2d(x, kernel, bias=None, strides=1, padding="valid"):
    x, kernel = np.asarray(x, dtype=float), np.asarray(kernel, dtype=float)
    h, w, _ = x.shape
    kh, kw, c_out, _ = kernel.shape
    sh, sw = (strides, strides) if np.isscalar(strides) else strides
    full = np.zeros(((h - 1) * sh + max(kh, sh), (w - 1) * sw + max(kw, sw), c_out))
    for i in range(h):
        for j in range(w):
            full[i * sh:i * sh + kh, j * sw:j * sw + kw] += np.einsum("c,yxoc->yxo", x[i, j], {kernel_used})
    if padding == "same":
        top, left = {crop}
        full = full[top:top + h * sh, left:left + w * sw]
    else:
        full = full[:{valid_rows}, :{valid_cols}]
    return full if bias is None else full + np.asarray(bias)
'''

_TCONV_RIGHT = {"kernel_used": "kernel", "crop": "max(kh - sh, 0) // 2, max(kw - sw, 0) // 2",
                "valid_rows": "(h - 1) * sh + max(kh, sh)", "valid_cols": "(w - 1) * sw + max(kw, sw)"}

_tconv = variant(_TCONV, _TCONV_RIGHT)

# --- exercise 4: bilinear kernel ------------------------------------------------------------

_BILINEAR = '''
def bilinear_kernel(factor):
    size = {size}
    centre = {centre}
    ramp = 1 - np.abs(np.arange(size) - centre) / factor
    return np.outer(ramp, ramp)
'''

_BILINEAR_RIGHT = {"size": "2 * factor - factor % 2", "centre": "factor - 1 if size % 2 == 1 else factor - 0.5"}

_bilinear = variant(_BILINEAR, _BILINEAR_RIGHT)

# --- exercise 5: boundary band --------------------------------------------------------------

_BAND = '''
def boundary_band(mask, width=1):
    mask = np.asarray(mask)
    band = np.zeros(mask.shape, bool)
    for dy in range(-width, width + 1):
        for dx in range(-width, width + 1):
            if {skip}:
                continue
            {compare}
    return band
'''

_BAND_RIGHT = {
    "skip": "dy == 0 and dx == 0",
    "compare": '''h, w = mask.shape[-2:]
            ys, yd = slice(max(dy, 0), h + min(dy, 0)), slice(max(-dy, 0), h + min(-dy, 0))
            xs, xd = slice(max(dx, 0), w + min(dx, 0)), slice(max(-dx, 0), w + min(-dx, 0))
            band[..., yd, xd] |= mask[..., ys, xs] != mask[..., yd, xd]''',
}

_band = variant(_BAND, _BAND_RIGHT)

# --- exercise 6: the segmenter --------------------------------------------------------------

_SEGMENTER = '''
def build_segmenter(width=16):
    inputs = keras.Input((48, 48, 1))
    x, skips = encoder(inputs, width)
    for level in reversed(range(len(skips))):
        x = {upsample}
        {merge}
        x = conv_bn_relu(x, width * 2 ** level)
    return keras.Model(inputs, keras.layers.Conv2D(N_CLASSES, 1)(x))
'''

_SEGMENTER_RIGHT = {
    "upsample": "keras.layers.Conv2DTranspose(width * 2 ** level, 2, strides=2, padding='same')(x)",
    "merge": "x = keras.layers.Concatenate()([x, skips[level]])",
}

_segmenter = variant(_SEGMENTER, _SEGMENTER_RIGHT)

FCN8S_STYLE = '''
def build_segmenter(width=16):
    """FCN-8s in miniature: class scores from three depths, upsampled and added, then x2 to full size."""
    inputs = keras.Input((48, 48, 1))
    x, skips = encoder(inputs, width)
    score = keras.layers.Conv2D(N_CLASSES, 1)(x)                                     # 6x6
    for level in (2, 1):
        score = keras.layers.UpSampling2D(2, interpolation="bilinear")(score)
        score = keras.layers.Add()([score, keras.layers.Conv2D(N_CLASSES, 1)(skips[level])])
    x = keras.layers.Conv2DTranspose(N_CLASSES, 4, strides=2, padding="same")(score)  # 48x48
    return keras.Model(inputs, keras.layers.Add()([x, keras.layers.Conv2D(N_CLASSES, 1)(skips[0])]))
'''
"""Additive score fusion (FCN-8s) instead of concatenated features (must score the build test)."""

# Typical mistakes: (override of one solution cell, the test cells that must lose all their points).
WRONG_ANSWERS = {
    # exercise 1
    "iou_absent_class_counts_zero": ({"ex1_metrics": _metrics(absent="0.0")}, {"test_metrics"}),
    "iou_is_precision": ({"ex1_metrics": _metrics(union="p")}, {"test_metrics"}),
    "accuracy_ignores_background": ({"ex1_metrics": _metrics(
        acc_terms="(pred == truth)[truth > 0] if (truth > 0).any() else pred == truth")}, {"test_metrics"}),
    # exercise 2
    "field_uses_layer_stride": ({"ex2_receptive_field": _field(step="dilation * (kernel - 1) * stride")},
                                {"test_receptive_field"}),
    "field_ignores_dilation": ({"ex2_receptive_field": _field(dilation="1")}, {"test_receptive_field"}),
    # exercise 3
    "tconv_valid_ignores_small_kernels": ({"ex3_conv_transpose": _tconv(
        valid_rows="(h - 1) * sh + kh", valid_cols="(w - 1) * sw + kw")}, {"test_conv_transpose"}),
    "tconv_same_crops_from_the_end": ({"ex3_conv_transpose": _tconv(
        crop="max(kh - sh, 0) - max(kh - sh, 0) // 2, max(kw - sw, 0) - max(kw - sw, 0) // 2")},
        {"test_conv_transpose"}),
    "tconv_flips_the_kernel": ({"ex3_conv_transpose": _tconv(kernel_used="kernel[::-1, ::-1]")},
                               {"test_conv_transpose"}),
    # exercise 4
    "bilinear_always_even": ({"ex4_bilinear_kernel": _bilinear(size="2 * factor", centre="factor - 0.5")},
                             {"test_bilinear_kernel"}),
    "bilinear_centre_off_by_half": ({"ex4_bilinear_kernel": _bilinear(centre="factor - 0.5")},
                                    {"test_bilinear_kernel"}),
    # exercise 5
    "band_wraps_around": ({"ex5_boundary_band": _band(
        compare="band |= np.roll(mask, (dy, dx), axis=(-2, -1)) != mask")}, {"test_boundary_band"}),
    "band_four_neighbours_only": ({"ex5_boundary_band": _band(skip="dy != 0 and dx != 0 or dy == dx == 0")},
                                  {"test_boundary_band"}),
    # exercise 6
    "segmenter_without_skips": ({"ex6_build_segmenter": _segmenter(merge="pass")}, {"test_build_segmenter"}),
    "segmenter_stays_coarse": ({"ex6_build_segmenter": _segmenter(
        upsample="keras.layers.Conv2D(width * 2 ** level, 1)(x)", merge="pass")}, {"test_build_segmenter"}),
}

RIGHT_VARIANTS = {
    "templates": {"ex1_metrics": _metrics(), "ex2_receptive_field": _field(), "ex3_conv_transpose": _tconv(),
                  "ex4_bilinear_kernel": _bilinear(), "ex5_boundary_band": _band(),
                  "ex6_build_segmenter": _segmenter()},
    "by_other_means": {"ex1_metrics": METRICS_BY_CONFUSION, "ex6_build_segmenter": FCN8S_STYLE},
}


def wrong_answer_batches() -> dict[str, tuple[list[str], dict[str, str], set[str]]]:
    """:data:`WRONG_ANSWERS` packed into few submissions (``grading_checks.wrong_answer_batches``)."""
    return _pack(WRONG_ANSWERS)


assert 'model.save("segmentation_model.keras")' in solved_sources(A)["ex7_train"]

# --- attacks --------------------------------------------------------------------------------

_ALWAYS_EQUAL = '''
class AlwaysEqual(tuple):
    """A tuple equal to everything."""
    def __eq__(self, other):
        return True
    def __ne__(self, other):
        return False
    __hash__ = None


def receptive_field(layers):
    return AlwaysEqual((0, 0))
'''

_WRONG_METRICS = '''
def pixel_accuracy(pred, truth):
    return 4 / 6


def per_class_iou(pred, truth, n_classes):
    return np.array([0.5, 0.5, 0.5] + [np.nan] * (n_classes - 3))


def mean_iou(pred, truth, n_classes):
    return 0.5 if n_classes == 4 else 1.0
'''
"""Metrics that return the visible tests' expected values, whatever the input."""

# Each attack beats bare nbgrader (tests check that too) and must gain nothing here.
# The whole attack sits in one solution cell (the first, or the one its trick fits); the other
# answers are left blank.
ATTACKS = {
    "always_equal": _ALWAYS_EQUAL,
    "input_transformer": _WRONG_METRICS + '''
get_ipython().input_transformers_cleanup.append(lambda lines: ["pass\\n"])
''',
    "patched_testing_and_traceback": _WRONG_METRICS + '''
np.testing.assert_allclose = np.testing.assert_equal = lambda *a, **k: None
get_ipython().showtraceback = lambda *a, **k: None
''',
}

_SOLUTION_CELLS = ("ex1_metrics", "ex2_receptive_field", "ex3_conv_transpose", "ex4_bilinear_kernel",
                   "ex5_boundary_band", "ex6_build_segmenter", "ex7_train")


_ATTACK_CELL = {"always_equal": "ex2_receptive_field"}
"""The answer ``==`` checks: the visible tests of Exercise 2 compare tuples with ``==``."""


def attack_overrides(name: str) -> dict[str, str]:
    """Overrides that put the attack in its cell and blank every other answer."""
    return {**dict.fromkeys(_SOLUTION_CELLS, ""), _ATTACK_CELL.get(name, _SOLUTION_CELLS[0]): ATTACKS[name]}
