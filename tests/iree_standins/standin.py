"""What the stand-in IREE tools share.

CI has no IREE, so the tests run these instead: small programs that keep the
real tools' command-line contract (flags, exit codes, the Google Benchmark
JSON iree-benchmark-module prints) and whose behaviour the MLIR they compile
sets, through comment lines such as

    // standin: function=main output=4xf32=1 2 3 4 time_ms=12.5
    // standin: dispatches=120 binary_bytes=65536
    // standin: fail=unsupported op

A "module" they write is a JSON header padded to the binary size.
"""
import json
import sys

VERSION = """IREE (https://iree.dev):
  IREE compiler version 3.4.0rc20250301 @ standin
  LLVM version 21.0.0git
  Optimized build
"""


def fail(tool, message, code=1):
    sys.stderr.write(f"{tool}: {message}\n")
    sys.exit(code)


def directives(text):
    """The key=value pairs of every '// standin:' line; values run to the next key."""
    found = {}
    for line in text.splitlines():
        line = line.strip()
        if not line.startswith("// standin:"):
            continue
        words = line[len("// standin:"):].split()
        key = None
        for word in words:
            if "=" in word and word.split("=", 1)[0].isidentifier():
                key, value = word.split("=", 1)
                found[key] = value
            elif key is not None:
                found[key] += " " + word
    return found


def flag_values(argv, name):
    prefix = f"--{name}="
    return [arg[len(prefix):] for arg in argv if arg.startswith(prefix)]


def load_module(tool, path):
    try:
        with open(path, "rb") as f:
            header = f.readline()
        return json.loads(header)
    except (OSError, ValueError) as e:
        fail(tool, f"failed to load module {path}: {e}")


def check_files(tool, argv):
    """Every @file an input names, and every parameter archive, must exist."""
    for value in flag_values(argv, "input") + flag_values(argv, "expected_output"):
        if "@" in value:
            path = value.split("@", 1)[1]
            try:
                open(path, "rb").close()
            except OSError as e:
                fail(tool, f"failed to open file '{path}': {e}")
    for value in flag_values(argv, "parameters"):
        path = value.split("=", 1)[-1]
        try:
            open(path, "rb").close()
        except OSError as e:
            fail(tool, f"failed to open parameter archive '{path}': {e}")


def function_of(tool, argv):
    modules = flag_values(argv, "module")
    if not modules:
        fail(tool, "no --module= given")
    loaded = [load_module(tool, path) for path in modules]
    names = flag_values(argv, "function")
    for module in loaded:
        functions = module["functions"]
        if not names:
            return next(iter(functions.items()))
        if names[-1] in functions:
            return names[-1], functions[names[-1]]
    fail(tool, f"function '{names[-1]}' not found in the modules")
