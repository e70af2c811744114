"""int8 generation on a CPU (`generation.precision: int8`): every Linear layer of the loaded model
replaced by shared/int8_kernels.py's Int8Linear, with SmoothQuant smoothing calibrated at load.

Calibration runs the fp32 model once over a few texts of the kind generation sees - two-shot
text-to-SQL prompts with their answers, over four seed databases of the bundled dataset
(data/int8_calibration.json; no held-out question) - and records each Linear input's largest
magnitude per channel. Outlier channels are a property of the model more than of the text, so a
user's own databases are served with the same scales."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

CALIBRATION_TEXTS = Path(__file__).parent / "data" / "int8_calibration.json"
INT8_KEEP_FP32: tuple[str, ...] = ()  # Linear layers (name suffixes) left in fp32 by quantize_int8


def calibration_texts(path: Path = CALIBRATION_TEXTS) -> list[str]:
    return list(json.loads(path.read_text()))


def activation_absmax(model: Any, tokenizer: Any, texts: list[str]) -> dict[str, Any]:
    """Each Linear layer's input, largest magnitude per channel over `texts`, keyed by module name."""
    import torch

    found: dict[str, torch.Tensor] = {}

    def recorder(name: str) -> Any:
        def record(_module: Any, inputs: tuple[Any, ...]) -> None:
            x = inputs[0].detach()
            largest = x.reshape(-1, x.shape[-1]).abs().amax(dim=0).float()
            found[name] = torch.maximum(found[name], largest) if name in found else largest

        return record

    hooks = [
        module.register_forward_pre_hook(recorder(name))
        for name, module in model.named_modules()
        if isinstance(module, torch.nn.Linear)
    ]
    try:
        with torch.inference_mode():
            for text in texts:
                model(**tokenizer(text, return_tensors="pt").to(model.device))
    finally:
        for hook in hooks:
            hook.remove()
    return found


def quantize_int8(
    model: Any,
    tokenizer: Any,
    keep_fp32: tuple[str, ...] = INT8_KEEP_FP32,
    texts: list[str] | None = None,
    absmax: dict[str, Any] | None = None,
) -> Any:
    """The model with its Linear layers computed in int8 (see shared/int8_kernels.py), smoothed with scales
    calibrated on `texts` (default: the packaged calibration texts), or with `absmax` already
    calibrated for this model (CalibrationCache); layers whose names end with one of `keep_fp32`
    stay fp32."""
    import torch

    from shared.int8_kernels import int8_linear, use_int8_engine

    use_int8_engine()
    if absmax is None:
        absmax = activation_absmax(model, tokenizer, calibration_texts() if texts is None else texts)
    replace = [
        (name, module)
        for name, module in model.named_modules()
        if isinstance(module, torch.nn.Linear) and not (keep_fp32 and name.endswith(keep_fp32))
    ]
    for name, module in replace:
        parent_name, _, child = name.rpartition(".")
        parent = model.get_submodule(parent_name) if parent_name else model
        setattr(parent, child, int8_linear(module, absmax.get(name)))
    return model


def _stamp(path: str) -> tuple[int, ...]:
    """When the files at `path` (a file, or a folder's own files) last changed: a model rewritten in
    place is calibrated again."""
    target = Path(path)
    if not path or not target.exists():
        return ()
    files = [target] if target.is_file() else sorted(p for p in target.iterdir() if p.is_file())
    return tuple(p.stat().st_mtime_ns for p in files)


class CalibrationCache:
    """Calibrated scales by model files (base path, adapter, when they changed). The fp32 calibration
    pass is most of an int8 load (66 of 90 s for the 0.5B on 2 cores), and GENERATE loads the same
    serving version at int8 again every round it is not replaced; the scales are small (one vector
    per Linear layer), so a few models' worth are kept."""

    def __init__(self, size: int = 4) -> None:
        self.size = size
        self._scales: dict[tuple[object, ...], dict[str, Any]] = {}
        self.calibrated = 0  # calibration passes run (for tests and logs)

    def absmax(self, path: str, adapter_path: str, model: Any, tokenizer: Any) -> dict[str, Any]:
        key = (path, _stamp(path), adapter_path, _stamp(adapter_path))
        found = self._scales.get(key)
        if found is None:
            found = activation_absmax(model, tokenizer, calibration_texts())
            self.calibrated += 1
            if len(self._scales) >= self.size:
                self._scales.pop(next(iter(self._scales)))  # the oldest
            self._scales[key] = found
        return found
