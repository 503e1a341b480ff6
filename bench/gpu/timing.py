"""What the GPU benchmarks share: CUDA-event timing with L2 flushed before
each run, and the device-to-device copy bandwidth every figure is compared
with (bytes read + written over time)."""
import statistics

import torch

_flush = None


def timed(fn, repeats=30):
    """Median milliseconds of `fn` over `repeats` runs after three warm-ups,
    with a 512 MiB write (larger than L2) before each."""
    global _flush
    if _flush is None:
        _flush = torch.empty(512 << 20, dtype=torch.uint8, device="cuda")
    times = []
    for _ in range(3):
        fn()
    for _ in range(repeats):
        _flush.zero_()
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        fn()
        end.record()
        torch.cuda.synchronize()
        times.append(start.elapsed_time(end))
    return statistics.median(times)


def timed_sequence(fns, repeats=7):
    """Median microseconds per call of `fns` run back to back, captured once as
    a CUDA graph: how a decode step meets its projections, one after another
    on different weights (give enough of them to outgrow L2), with no flush
    and no launch gaps between them."""
    torch.cuda.synchronize()
    stream = torch.cuda.Stream()
    stream.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(stream):
        for fn in fns[:2]:
            fn()  # Warm-up outside the capture (cuBLAS picks its kernels here).
    torch.cuda.current_stream().wait_stream(stream)
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        for fn in fns:
            fn()
    times = []
    for _ in range(repeats):
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        graph.replay()
        end.record()
        torch.cuda.synchronize()
        times.append(start.elapsed_time(end) * 1e3 / len(fns))
    return statistics.median(times)


def copy_bandwidth():
    """Bytes per second of a 4 GiB device-to-device copy, read + write."""
    src = torch.empty(4 << 30, dtype=torch.uint8, device="cuda")
    dst = torch.empty_like(src)
    bandwidth = 2 * src.numel() / (timed(lambda: dst.copy_(src), repeats=10) / 1e3)
    del src, dst
    torch.cuda.empty_cache()
    return bandwidth
