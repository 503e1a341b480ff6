"""Random weights for an IREE module, as pytest-iree's `weights: [{type: random}]`.

Reads the named parameters a module's MLIR declares
(`#stream.parameter.named<"scope"::"name"> : tensor<4x4xf16>`, or flow's),
fills each from numpy's default_rng(seed) — floats from N(0, 0.01), integers
over their type's range, as pytest-iree does — and writes them as an IREE
parameter archive with IREE's Python bindings.

    python3 random_weights.py --mlir model.mlir --seed 42 --output params.irpa

Exit 2 (and why) when numpy or IREE's bindings are missing.
"""
import argparse
import re
import sys

PARAMETER = re.compile(r'#(?:stream|flow)\.parameter\.named<(?:"[^"]*"::)?"([^"]+)">\s*:\s*tensor<([^>]*)>')
FLOATS = {"f16": "float16", "f32": "float32", "f64": "float64", "bf16": "bfloat16"}
INTEGERS = {"i8": "int8", "i16": "int16", "i32": "int32", "i64": "int64",
            "ui8": "uint8", "ui16": "uint16", "ui32": "uint32", "ui64": "uint64"}


def parameters(text):
    """(name, shape, element type) of each parameter, in the file's order, once each."""
    seen = {}
    for match in PARAMETER.finditer(text):
        name, tensor = match.group(1), match.group(2)
        *dims, element = tensor.split("x")
        seen.setdefault(name, (tuple(int(d) for d in dims), element))
    return [(name, shape, element) for name, (shape, element) in seen.items()]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--mlir", required=True)
    parser.add_argument("--seed", type=int, required=True)
    parser.add_argument("--output", required=True)
    args = parser.parse_args()
    try:
        import numpy as np
    except ImportError:
        print("random weights need numpy on this node (apt install python3-numpy)", file=sys.stderr)
        return 2
    try:
        import iree.runtime as rt
    except ImportError:
        print("random weights need IREE's Python bindings on this node (pip install iree-base-runtime), "
              "or give the weights as a url", file=sys.stderr)
        return 2
    with open(args.mlir) as f:
        found = parameters(f.read())
    if not found:
        print(f"{args.mlir} declares no named parameters (#stream.parameter.named<...>): nothing to generate",
              file=sys.stderr)
        return 2
    rng = np.random.default_rng(args.seed)
    index = rt.ParameterIndex()
    for name, shape, element in found:
        if element in FLOATS:
            dtype = FLOATS[element]
            if dtype == "bfloat16":
                import ml_dtypes
                dtype = ml_dtypes.bfloat16
            array = rng.normal(loc=0.0, scale=0.01, size=shape).astype(dtype)
        elif element in INTEGERS:
            info = np.iinfo(INTEGERS[element])
            array = rng.integers(info.min, info.max, size=shape, dtype=INTEGERS[element])
        else:
            print(f"parameter {name}: element type {element} is not one random weights can fill", file=sys.stderr)
            return 2
        index.add_buffer(name, array)
    index.create_archive_file(args.output)
    print(f"wrote {len(found)} parameters to {args.output}")
    return 0


sys.exit(main())
