"""Stand-in iree.runtime.ParameterIndex: writes the names, shapes and bytes it
was given as a small archive (not IREE's format), so tests can see what a
random-weights job generated."""
import json


class ParameterIndex:
    def __init__(self):
        self._buffers = []

    def add_buffer(self, name, array):
        self._buffers.append((name, array))

    def create_archive_file(self, path):
        header = [{"name": name, "shape": list(array.shape), "dtype": str(array.dtype), "bytes": array.nbytes}
                  for name, array in self._buffers]
        with open(path, "wb") as f:
            f.write(b"STANDIN-IRPA\n" + json.dumps(header).encode() + b"\n")
            for _, array in self._buffers:
                f.write(array.tobytes())
